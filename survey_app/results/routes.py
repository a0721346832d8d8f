"""Public results: read the stored analysis output; nothing is computed per request."""
from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, render_template, send_from_directory
from sqlalchemy import select

from ..analysis.pipeline import CHARTS_DIR, read_results
from ..extensions import db
from ..models import Survey
from . import bp

CACHE_SECONDS = 300


def _generated_dir() -> str:
    return current_app.config["GENERATED_DIR"]


def _results_or_404(slug: str) -> dict:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    results = read_results(_generated_dir(), slug) if survey and survey.status != "draft" else None
    if results is None:
        abort(404)
    return results


@bp.get("/")
def index():
    surveys = db.session.scalars(
        select(Survey).where(Survey.status != "draft").order_by(Survey.created_at.desc())
    ).all()
    listed = [(s, r) for s in surveys if (r := read_results(_generated_dir(), s.slug)) is not None]
    return render_template("results/index.html", listed=listed)


@bp.get("/<slug>")
def survey(slug: str):
    results = _results_or_404(slug)
    response = current_app.make_response(render_template("results/survey.html", results=results))
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


@bp.get("/<slug>/charts/<path:filename>")
def chart(slug: str, filename: str):
    _results_or_404(slug)
    # send_from_directory refuses paths that escape the folder.
    return send_from_directory(Path(_generated_dir()) / slug / CHARTS_DIR, filename, max_age=CACHE_SECONDS)
