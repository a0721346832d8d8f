"""Public results: published snapshots only, read from their stored files; nothing is computed
per request. A version's address (``/results/<slug>/v<N>``) never changes what it shows, except
that a withdrawn version shows its notice instead. An anonymous visitor's page is a file rendered
at publishing (static_pages.py), which a web server in front serves without the app; pages carry
an ETag and may be cached.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import abort, current_app, g, render_template, send_file, send_from_directory, session, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import publishing
from ..analysis.pipeline import CHARTS_DIR, RESULTS_FILE
from ..extensions import db
from ..i18n import current_language
from ..models import Snapshot, Survey
from ..security import as_chart
from . import bp, document, static_pages

CACHE_SECONDS = 300


def _generated_dir() -> str:
    return current_app.config["GENERATED_DIR"]


@functools.lru_cache(maxsize=64)
def _load(path: str, modified: int) -> dict:
    # A parsed copy per version of the file: a snapshot's results change only when a withdrawn
    # quote is taken out of them (publishing.take_out_quotes), in any process.
    return json.loads(Path(path).read_text("utf-8"))


def snapshot_results(snapshot: Snapshot, generated_dir=None) -> dict:
    path = publishing.snapshot_dir(generated_dir or _generated_dir(), snapshot) / RESULTS_FILE
    try:
        return _load(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        current_app.logger.error("snapshot files missing: %s", path)
        abort(404)


def _survey_or_404(slug: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None or survey.status == "draft":
        abort(404)
    return survey


def _anonymous() -> bool:
    """A visitor whose page is the same as everyone's: not signed in, no message waiting."""
    return not current_user.is_authenticated and "_flashes" not in session


def _public_page(survey: Survey, snapshot: Snapshot, versions: list[Snapshot]):
    """The page of a published version: for an anonymous visitor, its file (static_pages.py:
    rendered at publishing, as a web server in front serves it too); for staff, rendered."""
    allow_languages(snapshot_results(snapshot))
    if not _anonymous():
        body, status = results_page(survey, snapshot, versions)
        response = current_app.make_response((body, status))
        response.headers["Cache-Control"] = "private, no-store"  # the page shows staff navigation
        return response
    page = static_pages.version_page(_generated_dir(), survey, snapshot, current_language())
    if not page.exists():  # published before pages were files, or removed by hand
        static_pages.refresh(survey)
    if not page.exists():  # GENERATED_DIR not writable, say: the page as it is, uncached here
        body, status = results_page(survey, snapshot, versions)
        return current_app.make_response((body, status))
    # send_file answers conditional requests (ETag and Last-Modified of the file) with 304.
    response = send_file(page, mimetype="text/html", max_age=CACHE_SECONDS, conditional=True, etag=True)
    response.cache_control.public = True
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def results_page(survey: Survey, snapshot: Snapshot, versions: list[Snapshot], draft_results: dict | None = None,
                 chart_url=None, data_urls=None, status: int = 200, results: dict | None = None):
    """Render one version (or, for staff review, the unpublished draft) of the results page;
    ``results``: the version's results when the caller has them (read from another folder)."""
    if results is None:
        results = draft_results if draft_results is not None else snapshot_results(snapshot)
    if chart_url is None:
        def chart_url(name):
            return url_for("results.chart", slug=survey.slug, version=snapshot.version, filename=name)
    if data_urls is None and snapshot is not None:
        data_urls = {"csv": url_for("results.open_data", slug=survey.slug, version=snapshot.version,
                                    filename=publishing.DATA_CSV),
                     "json": url_for("results.open_data", slug=survey.slug, version=snapshot.version,
                                     filename=publishing.DATA_JSON)}
    return render_template("results/survey.html", results=document.read(results, current_language()),
                           survey=survey, snapshot=snapshot, versions=versions, chart_url=chart_url,
                           data_urls=data_urls or {}, draft=draft_results is not None), status


def allow_languages(results: dict) -> None:
    """A results page is offered in English and in each language its results were translated into."""
    g.allowed_languages = ["en"] + sorted(results.get("translations") or {})


@bp.get("/")
def index():
    listed = []
    for survey in db.session.scalars(select(Survey).where(Survey.status != "draft")):
        current = next((s for s in publishing.versions(survey) if s.status == "published"), None)
        if current is not None:
            listed.append((survey, current, snapshot_results(current)))
    listed.sort(key=lambda entry: entry[1].published_at, reverse=True)
    return render_template("results/index.html", listed=listed)


@bp.get("/open-data")
def open_data_schema():
    return render_template("results/open_data.html", columns=publishing.CSV_COLUMNS,
                           format=publishing.OPEN_DATA_FORMAT)


@bp.get("/<slug>")
def survey(slug: str):
    """The newest published version (earlier and withdrawn versions are listed on it)."""
    survey = _survey_or_404(slug)
    versions = publishing.versions(survey)
    current = next((s for s in versions if s.status == "published"), None)
    if current is None:
        if versions:  # everything withdrawn: the newest notice
            return _withdrawn(survey, versions[0], versions)
        abort(404)
    return _public_page(survey, current, versions)


def _snapshot_or_404(survey: Survey, version: int) -> Snapshot:
    snapshot = db.session.scalar(select(Snapshot).where(Snapshot.survey_id == survey.id,
                                                        Snapshot.version == version))
    if snapshot is None or snapshot.status not in ("published", "withdrawn"):
        abort(404)
    return snapshot


def _withdrawn(survey: Survey, snapshot: Snapshot, versions: list[Snapshot]):
    return render_template("results/withdrawn.html", survey=survey, snapshot=snapshot, versions=versions), 410


@bp.get("/<slug>/v<int:version>")
def version(slug: str, version: int):
    survey = _survey_or_404(slug)
    snapshot = _snapshot_or_404(survey, version)
    versions = publishing.versions(survey)
    if snapshot.status == "withdrawn":
        return _withdrawn(survey, snapshot, versions)
    return _public_page(survey, snapshot, versions)


def _published_file(slug: str, version: int, folder: Path, filename: str, **kwargs):
    survey = _survey_or_404(slug)
    snapshot = _snapshot_or_404(survey, version)
    if snapshot.status != "published":
        abort(410)
    # send_from_directory refuses paths that escape the folder, and answers conditional requests.
    return send_from_directory(publishing.snapshot_dir(_generated_dir(), snapshot) / folder, filename,
                               max_age=CACHE_SECONDS, **kwargs)


@bp.get("/<slug>/v<int:version>/charts/<path:filename>")
def chart(slug: str, version: int, filename: str):
    return as_chart(_published_file(slug, version, Path(CHARTS_DIR), filename))


@bp.get("/<slug>/v<int:version>/<any('data.csv', 'data.json'):filename>")
def open_data(slug: str, version: int, filename: str):
    mimetype = "text/csv" if filename.endswith(".csv") else "application/json"
    return _published_file(slug, version, Path("."), filename, mimetype=mimetype, as_attachment=True,
                           download_name=f"{slug}-v{version}-{filename}")

