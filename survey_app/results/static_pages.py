"""Published results pages rendered once, into files that a web server serves without the app.

A published version never changes, and its page changes only with the survey's list of versions
(a newer version, a withdrawal) and with the language. So whenever that list changes
(``publishing.publish`` and ``publishing.withdraw`` call ``refresh``), every published version's
page is rendered as an anonymous visitor sees it, in every language its results were translated
into, and written to the survey's published folder, beside its versions' folders:

    GENERATED_DIR/published/<slug>/pages/v<N>.<lang>.html       /results/<slug>/v<N>
    GENERATED_DIR/published/<slug>/pages/current.<lang>.html    /results/<slug> (the newest
                                                                 published version's page)

Not inside a version's own folder: that folder is frozen at publishing, byte for byte, with a
manifest of its files' digests, while its page must change when a newer version is listed.

A withdrawn version has no page file (its address answers 410 with the notice, from the app);
with no published version left, neither has the survey. Each file is written under a temporary
name and renamed, so a reader gets the old page or the new one, never part of one.

The app serves these files to anonymous visitors (``routes._public_page``). nginx serves them
itself (``deploy/nginx/survey.conf``), and passes to the app only visitors it cannot serve from
a file: those with a session or remember cookie (signed-in staff, a resident who chose a
language) and those choosing a language (``?lang=``); it picks the file's language from
Accept-Language as the app does. The files carry no cookie, token or anything per visitor.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from flask import current_app

from .. import publishing
from ..i18n import LANGUAGES
from ..models import Snapshot, Survey

PAGES_DIR = "pages"


def survey_pages_dir(generated_dir, survey: Survey) -> Path:
    return Path(generated_dir) / publishing.PUBLISHED_DIR / survey.slug / PAGES_DIR


def version_page(generated_dir, survey: Survey, snapshot: Snapshot, language: str) -> Path:
    """Where a published version's page in ``language`` is (it may not exist)."""
    return survey_pages_dir(generated_dir, survey) / f"v{snapshot.version}.{language}.html"


def current_page(generated_dir, survey: Survey, language: str) -> Path:
    return survey_pages_dir(generated_dir, survey) / f"current.{language}.html"


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".page-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_others(folder: Path, keep: set[Path]) -> None:
    if folder.is_dir():
        for page in folder.glob("*.html"):
            if page not in keep:
                page.unlink(missing_ok=True)


def languages_of(results: dict) -> list[str]:
    """English, and each language the results were translated into (routes.allow_languages)."""
    return ["en"] + sorted(code for code in (results.get("translations") or {}) if code in LANGUAGES)


def render_page(survey: Survey, snapshot: Snapshot, versions: list[Snapshot], language: str,
                generated_dir=None) -> bytes:
    """The page of a published version as an anonymous visitor reading ``language`` gets it."""
    from .routes import allow_languages, results_page, snapshot_results

    generated_dir = generated_dir or current_app.config["GENERATED_DIR"]
    path = f"/results/{survey.slug}/v{snapshot.version}"
    # A fresh application context too: g (where Flask-Babel keeps the locale it picked, and the
    # page its allowed languages) belongs to it, and the caller's may have served another page.
    app = current_app._get_current_object()
    with app.app_context(), app.test_request_context(path, headers={"Accept-Language": language}):
        results = snapshot_results(snapshot, generated_dir)
        allow_languages(results)
        body, _ = results_page(survey, snapshot, versions, results=results)
    return body.encode("utf-8")


def refresh(survey: Survey, generated_dir=None) -> list[Path]:
    """Render every published version's pages of the survey again and remove the others (a
    withdrawn version's, a language no longer offered); the files written. New pages are in
    place before old ones go, so a web server in front never misses one it should have."""
    from .routes import snapshot_results

    generated_dir = generated_dir or current_app.config["GENERATED_DIR"]
    folder = survey_pages_dir(generated_dir, survey)
    folder.mkdir(parents=True, exist_ok=True)
    # One refresh of a survey at a time, each reading the versions as they are once it holds the
    # lock: a publication and a withdrawal moments apart (two staff, two processes) cannot leave
    # the earlier one's page of a version since withdrawn. The kernel releases the lock if the
    # process dies.
    with open(folder / ".lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        versions = publishing.versions(survey, fresh=True)
        published = [v for v in versions if v.status == "published"] if survey.status != "draft" else []
        written = []
        for snapshot in published:
            for language in languages_of(snapshot_results(snapshot, generated_dir)):
                body = render_page(survey, snapshot, versions, language, generated_dir)
                targets = [version_page(generated_dir, survey, snapshot, language)]
                if snapshot is published[0]:  # the newest: /results/<slug> shows it
                    targets.append(current_page(generated_dir, survey, language))
                for target in targets:
                    _write(target, body)
                    written.append(target)
        _remove_others(folder, set(written))
    return written
