"""Run a survey's analysis and store its output as files.

Output goes to ``<generated_dir>/<slug>/``: ``results.json`` (every table and
summary, the page's only data source) and ``charts/<code>.svg|png``. The new
output is written to a temporary folder and swapped in at the end, so a
crash half-way leaves the previous results readable, and pages are never
recomputed per request.

The steps, each in its own module: load (``frame``), weights (``weighting``:
raking to the survey's population margins, or unweighted without them),
indices (``indices``), estimates with SEs by Taylor linearisation
(``estimates``, ``variance``), breakdowns and gaps under disclosure control
(``breakdowns``, ``disclosure``), trends across waves (``waves``), charts
(``charts``).

Disclosure control: when a survey has fewer responses than its minimum cell
size, no figure at all is written (only the fact that there are too few);
otherwise every figure goes through ``disclosure``, against the survey's
earlier public versions too (``differencing``): the draft is what publishing
would make public, so staff review exactly that. Free-text answers are only
counted, never written.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection

from ..questionnaire.question_types import of_published_item, question_type
from ..questionnaire.types import SLUG_PATTERN
from . import charts, frame_cache, themes
from .breakdowns import groupings, item_estimates
from .differencing import find_item, load_public_results, newest_published, responses_needed, with_figures
from .disclosure import is_small
from .doubts import doubts
from .estimates import summarise_question
from .fieldwork import load_fieldwork, margin_of_error
from .frame import SurveyData, load_codebook, series_slugs
from .indices import add_indices
from .localize import load_content, localized_item, translate, untranslated
from .variance import Design
from .waves import trend_table
from .weighting import Margin, WeightingError, load_margins, rake, rake_tolerance, unweighted

RESULTS_FILE = "results.json"
CHARTS_DIR = "charts"
RESULTS_FORMAT = 2

__all__ = ["analyze_survey", "read_results", "build_results", "WeightingError"]


@dataclass
class AnalysisRun:
    results: dict
    output_dir: Path
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # Exact counts of stored answers left out (frame.SurveyData.left_out), for staff only:
    # results.json, which becomes public, withholds the small ones.
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)


def _changed_by_few(now, before: list, k: int) -> bool:
    """Whether a count moved by 1 to k - 1 from its value in any earlier public version."""
    return now is not None and any(b is not None and is_small(abs(now - b), k) for b in before)


def _protect_summary(summary: dict, question, k: int, earlier: list[dict] = ()) -> dict:
    """The unweighted table and summary of a question with what disclosure control hides set to None.

    Option rows follow the item's protected overall estimates; the counts of
    "don't know" / "prefer not to say" and of people who skipped are hidden
    when any of them is 1 to k - 1, or moved by 1 to k - 1 since an earlier
    public version (``earlier``: the item there), or when the item's n is
    hidden (all of them together, so that none can be worked out from the
    others). A number's summary goes with its overall mean, and when its count
    moved by 1 to k - 1. Minimum and maximum of a number are never published
    (they are one person's answer).
    """
    estimates = summary.get("estimates", {}).get("overall", [])
    hidden_options = {r["option"] for r in estimates if r["statistic"] == "percent" and r["suppressed"]}
    missing_rows = [r for r in summary["table"] if r["missing_code"]]
    hide_missing = any(is_small(r["count"], k) for r in missing_rows) or is_small(summary["n_skipped"], k)
    hide_missing |= bool(estimates) and all(r["n"] is None for r in estimates)  # the item's n is hidden
    for old in earlier:
        old_counts = {r["code"]: r["count"] for r in old.get("table") or []}
        hide_missing |= any(_changed_by_few(r["count"], [old_counts.get(r["code"])], k) for r in missing_rows)
        hide_missing |= _changed_by_few(summary["n_skipped"], [old.get("n_skipped")], k)
        hide_missing |= _changed_by_few(summary["n_answered"], [old.get("n_answered")], k)
    for row in summary["table"]:
        if (row["code"] in hidden_options) or (row["missing_code"] and hide_missing):
            row.update(count=None, unweighted_percent=None, unweighted_valid_percent=None, suppressed=True)
        else:
            row["suppressed"] = False
    if hide_missing:
        # Both sides of "answered / skipped", and any count of missing codes, would give them away.
        summary.update(n_answered=None, n_skipped=None)
        if missing_rows:  # percentages over everyone who answered would too
            for row in summary["table"]:
                row["unweighted_percent"] = None
    if summary["summary"]:
        question_type(question.type).protect_summary(summary["summary"], estimates, hide_missing, earlier, k)
    return summary


def protect_scale_summary(s: dict, estimates: list[dict], hide_missing: bool) -> None:
    """A scale's summary: its non-answer counts go with the others, its mean and share at the
    favourable end with their overall estimates."""
    if hide_missing:
        s.update(n_dont_know=None, n_prefer_not_to_say=None)
    overall = {r["statistic"]: r for r in estimates}
    if overall.get("mean", {}).get("suppressed"):
        s["unweighted_mean"] = None
    if overall.get("percent_agree", {}).get("suppressed"):
        s["unweighted_percent_agree"] = None


def protect_number_summary(s: dict, estimates: list[dict], earlier: list[dict], k: int) -> None:
    """A number's summary goes with its overall mean, and when its count moved by 1 to k - 1;
    its minimum and maximum are never published (each is one person's answer)."""
    s.pop("min", None)
    s.pop("max", None)
    before = [(old.get("summary") or {}).get("n_valid") for old in earlier]
    mean_hidden = any(r["statistic"] == "mean" and r["suppressed"] for r in estimates)
    if s.get("n_valid", 0) < k or mean_hidden or _changed_by_few(s.get("n_valid"), before, k):
        for key in list(s):
            s[key] = None


def weigh(data: SurveyData, margins: list[Margin]):
    """The survey's weights: raked to its margins (trimmed if it says so), or unweighted without margins."""
    codebook = data.codebook
    if not margins:
        return unweighted(data.n_responses)
    return rake(data.frame, margins, codebook, trim=codebook.weight_trim)


def estimate_all(data: SurveyData, frame, design: Design, indices: list[dict], breakdowns: bool = True,
                 earlier: list[dict] = ()) -> dict:
    """Every question's table and protected estimates, and every index's (``frame`` has the index scores).

    earlier: the results of the survey's earlier public versions with figures, oldest first:
    every figure is protected against them too (the differencing rule).
    """
    codebook = data.codebook
    k = codebook.min_cell_size
    cache = groupings(frame, codebook, design) if breakdowns else {}

    def before(code: str) -> list[tuple[dict, int]]:
        found = [(find_item(document, code), document["n_responses"]) for document in earlier]
        return [(item, n) for item, n in found if item is not None]

    questions = []
    for question in codebook.questions:
        summary = summarise_question(data, question)
        summary["option_codes"] = [c for c, _ in question.options]
        summary["labels"] = {str(c): label for c, label in question.options}
        if question.code in data.coding:  # the themes of a written question (themes.py)
            summary["coding"] = data.coding[question.code]
        if question.code in data.quotes:  # residents' words a person approved (written_quotes.py)
            summary["quotes"] = data.quotes[question.code]
        old = before(question.code)
        if question_type(question.type).has_estimates():
            summary["estimates"] = item_estimates(frame, design, question, codebook, k, cache, breakdowns, old)
        questions.append(_protect_summary(summary, question, k, [item for item, _ in old]))
    index_results = []
    for index in indices:
        pseudo = index.pop("question")
        index["type"] = index["kind"] = "index"
        index["option_codes"] = []
        index["text"] = index["label"]
        old = before(index["code"])
        index["estimates"] = item_estimates(frame, design, pseudo, codebook, k, cache, breakdowns, old)
        # Alpha from fewer than k complete answers is not shown, nor when their count moved by 1 to k - 1.
        if index["n_alpha"] < k or _changed_by_few(index["n_alpha"], [item.get("n_alpha") for item, _ in old], k):
            index["alpha"] = index["n_alpha"] = None
        index_results.append(index)
    return {"questions": questions, "indices": index_results}


def compute_wave(data: SurveyData, margins: list[Margin], breakdowns: bool = True, earlier: list[dict] = ()) -> dict:
    """Weights, indices and every item's protected estimates for one survey (one wave)."""
    weights = weigh(data, margins)
    frame, indices = add_indices(data.frame, data.codebook)
    return {"weights": weights,
            **estimate_all(data, frame, Design.from_weights(weights), indices, breakdowns, earlier)}


def methodology(codebook, weights, n: int, left_out: list[dict] = (), indices: list[dict] = ()) -> dict:
    summary = weights.summary()
    deff = summary.get("design_effect") or 1.0
    return {
        "n_responses": n,
        "min_cell_size": codebook.min_cell_size,
        "weighted": weights.weighted,
        "weighting": summary,
        # The largest margin of error of a survey-wide percentage, design effect included.
        "margin_of_error": margin_of_error(n, deff) if n >= codebook.min_cell_size else None,
        "estimates": ("Percentages and means are weighted; each comes with a 95% confidence interval "
                      "(t distribution on the design's degrees of freedom, every respondent less one, for groups too) "
                      "from Taylor-linearised standard errors that account for the raking, "
                      "as R's survey package computes them. Percentages use the logit interval. "
                      "Don't know and prefer not to say are left out of percentages and means."),
        "suppression": (f"Figures based on fewer than {codebook.min_cell_size} respondents are not shown, "
                        "nor are figures from which they could be worked out."),
        # Stored answers no estimate uses (not finite, outside the question's range, not an option).
        "answers_left_out": list(left_out),
        # What in the inputs is doubtful (doubts.py): all for staff, those marked public for readers.
        "doubts": doubts(weights.totals, (weights.rake_error, rake_tolerance(weights.n)) if weights.weighted else None,
                         list(indices)),
    }


def differencing_status(n_responses: int, k: int, public: list[dict]) -> dict:
    """What the draft was checked against (every public version), and how many more responses it
    needs before it may be published (0: none). Publishing reads this and checks again."""
    earlier = [int(d["n_responses"]) for d in with_figures(public)]
    suppressed = n_responses < k
    return {"checked_versions": [d["version"] for d in public if not d.get("missing")],
            "responses_needed": 0 if suppressed else responses_needed(n_responses, earlier, k),
            "earlier_responses": earlier}


def build_results(data: SurveyData, generated_at: dt.datetime, margins: list[Margin] | None = None,
                  public: list[dict] = ()) -> dict:
    """The results document. ``public``: the results of the survey's public versions (published
    and withdrawn, oldest first, each with its ``version``), which the draft must not be
    differenced against."""
    codebook = data.codebook
    suppressed = data.n_responses < codebook.min_cell_size
    base = {
        "format": RESULTS_FORMAT,
        "survey": {"slug": codebook.slug, "title": codebook.title, "wave": codebook.wave},
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "n_responses": data.n_responses,
        "min_cell_size": codebook.min_cell_size,
        "suppressed": suppressed,
        "differencing": differencing_status(data.n_responses, codebook.min_cell_size, list(public)),
    }
    if suppressed:
        weights = unweighted(data.n_responses)
        return {**base, "weighted": False,
                "methodology": methodology(codebook, weights, data.n_responses, data.left_out_note()),
                "questions": [], "indices": [], "trends": []}
    wave = compute_wave(data, margins or [], earlier=with_figures(list(public)))
    weights = wave["weights"]
    return {**base, "weighted": weights.weighted,
            "methodology": methodology(codebook, weights, data.n_responses, data.left_out_note(), wave["indices"]),
            "questions": wave["questions"], "indices": wave["indices"], "trends": []}


def _wave_items(results: dict) -> list[dict]:
    items = [q for q in results["questions"] if of_published_item(q).has_estimates()] + results["indices"]
    return [{"code": i["code"], "text": i["text"], "type": i["type"], "option_codes": i["option_codes"],
             "overall": i["estimates"]["overall"]} for i in items]


def series_trends(connection: Connection, codebook, results: dict, generated_dir) -> list[dict]:
    """Trend tables over this survey's series, up to this wave (empty outside a series).

    This wave is the draft's own figures (protected against its own versions). Another wave is
    shown only as its newest published (not withdrawn) version shows it, suppressed figures
    included: never recomputed from its responses, which could differ from what it published by
    1 to k - 1 respondents (the differencing rule), and never as a withdrawn version had it. A
    wave with no published version with figures is left out."""
    if codebook.series_id is None:
        return []
    waves = []
    for wave_number, slug in series_slugs(connection, codebook.series_id):
        if wave_number > codebook.wave:
            continue
        if slug == codebook.slug:
            waves.append({"wave": wave_number, "slug": slug, "title": codebook.title, "items": _wave_items(results)})
            continue
        shown = newest_published(connection, load_codebook(connection, slug).survey_id, generated_dir)
        if shown is not None:
            waves.append({"wave": wave_number, "slug": slug, "title": shown["survey"]["title"],
                          "items": _wave_items(shown)})
    return trend_table(sorted(waves, key=lambda w: w["wave"])) if len(waves) > 1 else []


# Charts are a fixed cost per item and language (about 0.15 s each, whatever the number of
# responses: matplotlib's layout and rendering), all on one core unless spread: above this many,
# they are drawn by a pool of processes forked from this one, one per core (at most four).
# Measured with bench/versus_svy.py; the files are the same bytes either way (tested).
PARALLEL_CHARTS_FROM = 8


def draw_charts(results: dict, charts_dir: Path, processes: int | None = None) -> None:
    """Render one chart per question and index with published figures, in English and in every
    language of ``results["translations"]`` (under ``charts/<language>/``); record the file
    names and the text alternative of each. ``processes``: 1 draws them here, one by one."""
    jobs, records = [], []
    for item in results["questions"] + results["indices"]:
        if not of_published_item(item).chart or "estimates" not in item:
            continue
        overall = item["estimates"]["overall"]
        if not overall or all(r["estimate"] is None for r in overall):
            continue
        jobs.append((item, charts_dir, "en"))
        records.append((item, None))
        for language, block in results.get("translations", {}).items():
            jobs.append((localized_item(item, block), charts_dir / language, language))
            records.append((block["items"].setdefault(item["code"], {}), language))
    if processes is None:
        processes = min(os.cpu_count() or 1, 4) if len(jobs) >= PARALLEL_CHARTS_FROM else 1
    if processes > 1:
        import concurrent.futures
        import multiprocessing

        # Forked: the children have the modules and fonts already loaded, and leave by os._exit,
        # never touching the parent's database connections.
        with concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            drawn = list(pool.map(_chart_job, jobs, chunksize=max(1, len(jobs) // (4 * processes))))
    else:
        drawn = [_chart_job(job) for job in jobs]
    for (record, language), (files, alt) in zip(records, drawn):
        if language is None:
            record["chart"], record["chart_alt"] = files, alt
        else:
            record["chart"] = {fmt: f"{language}/{name}" for fmt, name in files.items()}
            record["chart_alt"] = alt


def _chart_job(job: tuple) -> tuple[dict, str]:
    item, directory, language = job
    return _chart(item, directory, language)


def _chart(item: dict, directory: Path, language: str) -> tuple[dict, str]:
    if of_published_item(item).chart == "means":
        figure = charts.group_chart(item, language)
    else:
        figure = charts.bar_chart(item, language)
    return charts.save(figure, directory, item["code"]), charts.alt_text(item, language)


def _swap_in(new_dir: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new_dir.rename(target)
    if old.exists():
        shutil.rmtree(old)


# The stages of an analysis, as the staff page of a running one names them (analysis_job.py).
STAGES = ("Loading the responses", "Weighting and estimating", "Comparing with earlier waves", "Drawing the charts",
          "Writing the results")


def analyze_survey(connection: Connection, slug: str, generated_dir: str | Path,
                   now: dt.datetime | None = None, on_stage=None) -> AnalysisRun:
    """Analyse a survey into its draft results; ``on_stage(name)`` is told each of STAGES as it starts."""
    generated_dir = Path(generated_dir)
    generated_dir.mkdir(parents=True, exist_ok=True)
    timings = {}
    on_stage = on_stage or (lambda name: None)

    on_stage(STAGES[0])
    started = time.perf_counter()
    codebook = load_codebook(connection, slug)
    data = themes.with_themes(connection, frame_cache.load(connection, codebook, generated_dir))
    timings["load"] = time.perf_counter() - started

    on_stage(STAGES[1])
    started = time.perf_counter()
    margins = load_margins(connection, codebook.survey_id)
    public = load_public_results(connection, codebook.survey_id, generated_dir)
    results = build_results(data, now or dt.datetime.now(dt.timezone.utc), margins, public)
    timings["compute"] = time.perf_counter() - started

    results["methodology"]["fieldwork"] = load_fieldwork(
        connection, codebook.survey_id, codebook.min_cell_size,
        [p["methodology"].get("fieldwork") or {} for p in public if "methodology" in p])
    content = load_content(connection, codebook.survey_id)
    results["translations"] = translate(results, content)
    results["methodology"]["doubts"] += untranslated(results, content)
    on_stage(STAGES[2])
    started = time.perf_counter()
    if not results["suppressed"]:
        results["trends"] = series_trends(connection, codebook, results, generated_dir)
    timings["trends"] = time.perf_counter() - started

    work_dir = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=generated_dir))
    try:
        on_stage(STAGES[3])
        started = time.perf_counter()
        draw_charts(results, work_dir / CHARTS_DIR)
        timings["charts"] = time.perf_counter() - started

        on_stage(STAGES[4])
        started = time.perf_counter()
        (work_dir / RESULTS_FILE).write_text(json.dumps(results, indent=1, ensure_ascii=False), "utf-8")
        target = generated_dir / slug
        _swap_in(work_dir, target)
        timings["write"] = time.perf_counter() - started
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return AnalysisRun(results=results, output_dir=target, timings=timings, left_out=data.left_out)


def read_results(generated_dir: str | Path, slug: str) -> dict | None:
    """The stored results of a survey, or None if it has not been analysed."""
    if not SLUG_PATTERN.match(slug):  # the slug comes from a URL and becomes a path
        return None
    path = Path(generated_dir) / slug / RESULTS_FILE
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
