"""Benchmark: the full analysis, stage by stage, on 100,000 and 1,000,000 generated responses.

    .venv/bin/python bench/analysis.py                          # 100,000 and 1,000,000, SQLite
    .venv/bin/python bench/analysis.py --responses 20000
    .venv/bin/python bench/analysis.py --database postgresql://postgres@127.0.0.1:5432/test

The questionnaire is the demo's with nine more agreement items: 30 items
(8 demographic and behaviour items, 21 scales and ordered items, one
multiple choice, one number, one free text), weighted on four margins.
Stages, each timed with its peak memory (the process's resident-set high-water
mark, reset before each stage through /proc/self/clear_refs):

    load      one query per survey into the typed frame
    weights   raking to the four population margins (svy)
    indices   0-100 scores and Cronbach's alpha
    estimates every item overall and by each of the 4 breakdowns, with SEs,
              CIs, gaps and disclosure control
    charts    one chart per item and index (SVG + PNG)
    write     results.json

Seeding runs in a child process first, so that its memory is not counted.
Figures are printed, never asserted. Targets (2 cores): 1,000,000 responses
under 30 s end to end and under 4 GB; 100,000 under 5 s. "analysis" is load
to estimates; charts (a fixed cost per item, about 0.15 s each, whatever
the number of responses) and writing are printed apart.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS_STAGES = ("load", "weights", "indices", "estimates")
sys.path.insert(0, str(ROOT))

EXTRA_ITEMS = [
    ("obey", "People should do what the police tell them, even if they disagree.", "legitimacy"),
    ("moral_values", "The police stand up for values that matter to me.", "legitimacy"),
    ("proper_authority", "The police use their powers within the law.", "legitimacy"),
    ("respond_fast", "The police come quickly when someone calls for help.", "effectiveness"),
    ("prevent_crime", "The police do a good job of preventing crime in my area.", "effectiveness"),
    ("call_again", "If I needed help, I would call the police again.", "cooperation"),
    ("give_info", "I would give the police information to help find a suspect.", "cooperation"),
    ("safe_park", "I feel safe using the parks in my neighbourhood.", "safety"),
    ("kept_informed", "The police keep residents informed about what they are doing.", "fair_treatment"),
]


def bench_definition() -> dict:
    from survey_app.questionnaire.demo import COMMUNITY_TRUST

    definition = copy.deepcopy(COMMUNITY_TRUST)
    definition["slug"] = "bench-trust"
    definition["pages"].insert(2, {"title": "More views", "questions": [
        {"code": code, "type": "scale", "text": text, "required": False, "construct": construct,
         "config": {"scale": "agreement", "missing": ["dont_know"]}} for code, text, construct in EXTRA_ITEMS
    ]})
    return definition


def make_app(url: str, generated: str):
    from survey_app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench-" + "x" * 40,
                       "SQLALCHEMY_DATABASE_URI": url, "GENERATED_DIR": generated})


def seed(url: str, responses: int) -> None:
    """Child process: migrate, create the survey and its margins, insert the responses.

    A bulk load for benchmarks only, up to tens of millions of responses: the responses get
    distinct random ids as the app gives them (drawn here at once, sorted), and each slice's
    answers go in question by question in id order, so that the answer table, clustered on
    (question, response), grows at one end of each question's run instead of at random
    places; the index on response ids is built once at the end, and on PostgreSQL the
    foreign-key triggers are off for the load (the ids are the ones just inserted).
    Residents', staff's and imports' answers are stored by ``responses``, never this way.
    """
    import numpy as np
    from flask_migrate import upgrade

    from survey_app.analysis.weighting import Margin
    from survey_app.extensions import db
    from survey_app.models import Answer
    from survey_app.population import save_margins
    from survey_app.questionnaire.definition import survey_from_definition
    from survey_app.questionnaire.demo import DEMO_POPULATION
    from survey_app.responses import MAX_RESPONSE_ID
    from survey_app.synthetic import generate_responses

    app = make_app(url, tempfile.gettempdir())
    with app.app_context():
        upgrade()
        survey = survey_from_definition(bench_definition())
        survey.status = "closed"
        db.session.add(survey)
        db.session.commit()
        save_margins(survey, [Margin(v, p, s) for v, s, p in DEMO_POPULATION])
        questions = list(survey.questions)
        started = time.perf_counter()
        rng = np.random.default_rng(2026)
        ids = np.unique(rng.integers(1, MAX_RESPONSE_ID, size=responses + responses // 100 + 16, dtype=np.int64))
        ids = np.sort(rng.choice(ids, size=responses, replace=False))
        by_response = next(i for i in Answer.__table__.indexes if i.name == "ix_answer_response_id")
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.begin() as connection:
            by_response.drop(connection)
        chunk = 250_000  # generate and insert in slices to bound the seeding process's memory
        for first in range(0, responses, chunk):
            batch = generate_responses(questions, min(chunk, responses - first), seed=2026 + first)
            with db.engine.begin() as connection:
                _bulk_insert(connection, survey.id, questions, batch, ids[first:first + batch.n], postgres)
            if first and first % 2_000_000 == 0:
                print(f"  seed: {first:,} responses in {time.perf_counter() - started:.0f} s", flush=True)
        with db.engine.begin() as connection:
            by_response.create(connection)
            # Fresh planner statistics, as autovacuum (PostgreSQL) would have them on a live
            # site; without them PostgreSQL picks a hash aggregate that loads 40% slower.
            connection.exec_driver_sql("ANALYZE")
        print(f"  seed: {responses:,} responses with {len(questions)} questions in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        db.engine.dispose()


def _bulk_insert(connection, survey_id, questions, batch, ids, postgres: bool) -> None:
    """The batch's responses with the ids given, then their answers as seeding stores them: with
    ids in order, each question's answers go in in the answer table's key order."""
    from survey_app.seeding import insert_answers

    cursor = connection.connection.driver_connection.cursor()
    responses = [(i, survey_id, day, "web", "en") for i, day in zip(ids.tolist(), batch.submitted_on)]
    columns = "id, survey_id, submitted_on, mode, language"
    if postgres:
        cursor.execute("SET session_replication_role = replica")  # no foreign-key triggers for the load
        with cursor.copy(f"COPY response ({columns}) FROM STDIN") as copy:
            for row in responses:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO response ({columns}) VALUES (?, ?, ?, ?, ?)", responses)
    cursor.close()
    insert_answers(connection, questions, batch, ids)


def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analyse(url: str, generated: Path) -> dict:
    from survey_app.analysis import charts as _charts  # noqa: F401 (import time is not a stage)
    from survey_app.analysis.frame import load_codebook, load_survey_data
    from survey_app.analysis.indices import add_indices
    from survey_app.analysis.pipeline import draw_charts, estimate_all, weigh
    from survey_app.analysis.variance import Design
    from survey_app.analysis.weighting import load_margins
    from survey_app.extensions import db

    app = make_app(url, str(generated))
    stages = {}

    def stage(name):
        class Timer:
            def __enter__(self):
                reset_peak()
                self.started = time.perf_counter()

            def __exit__(self, *exc):
                stages[name] = (time.perf_counter() - self.started, peak_mb())
        return Timer()

    with app.app_context():
        with stage("load"), db.engine.connect() as connection:
            codebook = load_codebook(connection, "bench-trust")
            data = load_survey_data(connection, codebook)
            margins = load_margins(connection, codebook.survey_id)
        with stage("weights"):
            weights = weigh(data, margins)
            design = Design.from_weights(weights)
        with stage("indices"):
            frame, indices = add_indices(data.frame, codebook)
        with stage("estimates"):
            results = estimate_all(data, frame, design, indices)
        questions, indices = results["questions"], results["indices"]
        with stage("charts"):
            draw_charts(results, generated / "charts")
        with stage("write"):
            (generated / "results.json").write_text(json.dumps(results, default=str), "utf-8")
        db.engine.dispose()
    return {"stages": stages, "n": data.n_responses, "items": len(codebook.questions),
            "estimates": sum(len(q.get("estimates", {}).get("overall", [])) + sum(
                len(b["rows"]) for b in q.get("estimates", {}).get("breakdowns", []))
                for q in questions + indices),
            "deff": weights.design_effect}


def run(responses: int, database: str | None) -> None:
    from survey_app.scratch import scratch_database

    with tempfile.TemporaryDirectory() as folder, \
            scratch_database(database, Path(folder), prefix="survey_bench") as url:
        subprocess.run([sys.executable, __file__, "--seed-only", url, "--responses", str(responses)], check=True)
        generated = Path(folder) / "generated"
        generated.mkdir()
        # The analysis runs in its own fresh process too, so that its peak memory is its own.
        out = subprocess.run([sys.executable, __file__, "--analyse-only", url, "--generated", str(generated)],
                             check=True, capture_output=True, text=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
    analysis = sum(report["stages"][name][0] for name in ANALYSIS_STAGES)
    total = sum(seconds for seconds, _ in report["stages"].values())
    print(f"  {report['n']:,} responses, {report['items']} items, {report['estimates']:,} published estimates, "
          f"design effect {report['deff']:.2f}")
    for name, (seconds, peak) in report["stages"].items():
        print(f"  {name:<10} {seconds:8.2f} s   peak {peak:8.0f} MB")
    print(f"  {'analysis':<10} {analysis:8.2f} s   (load to estimates: the issue's end-to-end figure)")
    print(f"  {'total':<10} {total:8.2f} s   peak {max(p for _, p in report['stages'].values()):8.0f} MB"
          " (with charts and write)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, action="append",
                        help="responses to generate (repeatable; default 100,000 and 1,000,000)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--seed-only", help=argparse.SUPPRESS)
    parser.add_argument("--analyse-only", help=argparse.SUPPRESS)
    parser.add_argument("--generated", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.responses[0])
        return
    if args.analyse_only:
        report = analyse(args.analyse_only, Path(args.generated))
        print(json.dumps(report))
        return
    print(f"bench/analysis.py, {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
          f"backend {'SQLite' if not args.database else args.database.split(':')[0]}")
    for responses in args.responses or [100_000, 1_000_000]:
        print(f"{responses:,} responses:", flush=True)
        run(responses, args.database)


if __name__ == "__main__":
    main()
