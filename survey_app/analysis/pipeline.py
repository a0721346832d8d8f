"""Run a survey's analysis and store its output as files.

Output goes to ``<generated_dir>/<slug>/``: ``results.json`` (every table and
summary, the page's only data source) and ``charts/<code>.svg|png``. The new
output is written to a temporary folder and swapped in at the end, so a
crash half-way leaves the previous results readable, and pages are never
recomputed per request.

Disclosure control at this stage: when a survey has fewer responses than its
minimum cell size, no figure at all is written (only the fact that there are
too few). Free-text answers are only counted, never written.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection

from ..questionnaire.types import SLUG_PATTERN
from . import charts
from .estimates import summarise_survey
from .frame import SurveyData, load_codebook, load_survey_data

RESULTS_FILE = "results.json"
CHARTS_DIR = "charts"


@dataclass
class AnalysisRun:
    results: dict
    output_dir: Path
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def build_results(data: SurveyData, generated_at: dt.datetime) -> dict:
    codebook = data.codebook
    suppressed = data.n_responses < codebook.min_cell_size
    return {
        "survey": {"slug": codebook.slug, "title": codebook.title},
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "n_responses": data.n_responses,
        "min_cell_size": codebook.min_cell_size,
        "suppressed": suppressed,
        "weighted": False,
        "questions": [] if suppressed else summarise_survey(data),
    }


def draw_charts(data: SurveyData, results: dict, charts_dir: Path) -> None:
    """Render one chart per question with answers; record file names and alt text in ``results``."""
    for question in results["questions"]:
        if question["kind"] == "text" or not question["n_answered"]:
            continue
        if question["kind"] == "numeric":
            figure = charts.histogram(question, data.frame[question["code"]].dropna().to_numpy())
        else:
            figure = charts.bar_chart(question)
        question["chart"] = charts.save(figure, charts_dir, question["code"])
        question["chart_alt"] = charts.alt_text(question)


def _swap_in(new_dir: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new_dir.rename(target)
    if old.exists():
        shutil.rmtree(old)


def analyze_survey(connection: Connection, slug: str, generated_dir: str | Path,
                   now: dt.datetime | None = None) -> AnalysisRun:
    generated_dir = Path(generated_dir)
    generated_dir.mkdir(parents=True, exist_ok=True)
    timings = {}

    started = time.perf_counter()
    codebook = load_codebook(connection, slug)
    data = load_survey_data(connection, codebook)
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    results = build_results(data, now or dt.datetime.now(dt.timezone.utc))
    timings["compute"] = time.perf_counter() - started

    work_dir = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=generated_dir))
    try:
        started = time.perf_counter()
        draw_charts(data, results, work_dir / CHARTS_DIR)
        timings["charts"] = time.perf_counter() - started

        started = time.perf_counter()
        (work_dir / RESULTS_FILE).write_text(json.dumps(results, indent=1, ensure_ascii=False), "utf-8")
        target = generated_dir / slug
        _swap_in(work_dir, target)
        timings["write"] = time.perf_counter() - started
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return AnalysisRun(results=results, output_dir=target, timings=timings)


def read_results(generated_dir: str | Path, slug: str) -> dict | None:
    """The stored results of a survey, or None if it has not been analysed."""
    if not SLUG_PATTERN.match(slug):  # the slug comes from a URL and becomes a path
        return None
    path = Path(generated_dir) / slug / RESULTS_FILE
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
