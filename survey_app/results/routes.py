"""Public results: published snapshots only, read from their stored files; nothing is computed
per request. A version's address (``/results/<slug>/v<N>``) never changes what it shows, except
that a withdrawn version shows its notice instead. Pages carry an ETag and may be cached.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import threading
from collections import OrderedDict

from flask import abort, current_app, g, render_template, request, send_from_directory, session, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import publishing
from ..analysis.pipeline import CHARTS_DIR, RESULTS_FILE
from ..extensions import db
from ..i18n import current_language
from ..models import Snapshot, Survey
from ..security import as_chart
from . import bp, document

CACHE_SECONDS = 300


def _generated_dir() -> str:
    return current_app.config["GENERATED_DIR"]


@functools.lru_cache(maxsize=64)
def _load(path: str) -> dict:
    # Snapshot files never change once published, so a parsed copy can be kept.
    return json.loads(Path(path).read_text("utf-8"))


def snapshot_results(snapshot: Snapshot) -> dict:
    path = publishing.snapshot_dir(_generated_dir(), snapshot) / RESULTS_FILE
    try:
        return _load(str(path))
    except FileNotFoundError:
        current_app.logger.error("snapshot files missing: %s", path)
        abort(404)


def _survey_or_404(slug: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None or survey.status == "draft":
        abort(404)
    return survey


class PageCache:
    """Rendered public pages of published versions, per worker process (a few, least recently used).

    A version's files never change, so its page changes only with the list of versions and the
    language, which are in the key. Measured with bench/results_rps.py: rendering the demo's
    page takes about 20 ms of CPU; a cached one is served in well under a millisecond.
    """

    def __init__(self, size: int = 32):
        self.size, self.pages, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.pages:
                self.pages.move_to_end(key)
                return self.pages[key]
        return None

    def put(self, key, body: bytes) -> None:
        with self.lock:
            self.pages[key] = body
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


pages = PageCache()


def _anonymous() -> bool:
    """A visitor whose page is the same as everyone's: not signed in, no message waiting."""
    return not current_user.is_authenticated and "_flashes" not in session


def _public_page(survey: Survey, snapshot: Snapshot, versions: list[Snapshot]):
    """The page of a published version: 304 if the browser has it, else from the cache, else rendered."""
    # What the page shows: this version's files, the list of versions (with their status) and
    # the language. The digest is the ETag; the cache key adds where the files are.
    allow_languages(snapshot_results(snapshot))
    listing = ",".join(f"{v.version}{v.status[0]}" for v in versions)
    key = f"{survey.slug}-v{snapshot.version}-" + hashlib.sha256(
        f"{listing}|{current_language()}|{snapshot.published_at.isoformat()}".encode()).hexdigest()[:16]
    cache_key = (str(publishing.snapshot_dir(_generated_dir(), snapshot)), key)
    if not _anonymous():
        body, status = results_page(survey, snapshot, versions)
        response = current_app.make_response((body, status))
        response.headers["Cache-Control"] = "private, no-store"  # the page shows staff navigation
        return response
    if request.if_none_match.contains(key):
        response = current_app.response_class(status=304)
    else:
        body = pages.get(cache_key)
        if body is None:
            body = results_page(survey, snapshot, versions)[0].encode("utf-8")
            pages.put(cache_key, body)
        response = current_app.response_class(body, mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    response.vary.update(("Cookie", "Accept-Language"))
    response.set_etag(key)
    return response


def results_page(survey: Survey, snapshot: Snapshot, versions: list[Snapshot], draft_results: dict | None = None,
                 chart_url=None, data_urls=None, status: int = 200):
    """Render one version (or, for staff review, the unpublished draft) of the results page."""
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

