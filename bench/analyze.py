"""Benchmark: seed N synthetic responses, then time `flask analyze` stage by stage.

    .venv/bin/python bench/analyze.py                       # 100,000 responses, temporary SQLite
    .venv/bin/python bench/analyze.py --responses 20000
    .venv/bin/python bench/analyze.py --database postgresql://postgres@127.0.0.1:5432/test

With --database, a fresh database is created beside the one named and dropped
afterwards (PostgreSQL), so no existing data is touched. Prints the seeding
time and, for each repeat, the load / compute / charts / write times of the
same function the `flask analyze` command runs, then the peak memory of the
process. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from survey_app import create_app  # noqa: E402
from survey_app.analysis.pipeline import analyze_survey  # noqa: E402
from survey_app.cli import create_demo_survey  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.scratch import scratch_database  # noqa: E402


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL server URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database, Path(folder), prefix="survey_bench") as url:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench-" + "x" * 40,
                          "SQLALCHEMY_DATABASE_URI": url, "GENERATED_DIR": f"{folder}/generated"})
        with app.app_context():
            upgrade()
            backend = db.engine.dialect.name
            started = time.perf_counter()
            survey = create_demo_survey(args.responses, seed=2026)
            seed_seconds = time.perf_counter() - started
            n_questions = len(survey.questions)
            slug = survey.slug
            answers = db.session.execute(text("SELECT COUNT(*) FROM answer")).scalar()
            print(f"backend: {backend}; responses: {args.responses:,}; questions: {n_questions}; "
                  f"answer rows: {answers:,}")
            print(f"seed (generate + insert): {seed_seconds:.2f} s")

            runs = []
            for i in range(args.repeat):
                started = time.perf_counter()
                with db.engine.connect() as connection:
                    run = analyze_survey(connection, slug, app.config["GENERATED_DIR"])
                total = time.perf_counter() - started
                runs.append({**run.timings, "total": total})
                stages = ", ".join(f"{k} {v:.3f} s" for k, v in run.timings.items())
                print(f"analyze run {i + 1}: {stages}; total {total:.3f} s")
            median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print("analyze median: " + ", ".join(f"{k} {v:.3f} s" for k, v in median.items()))
            print(f"peak memory (whole process, incl. seeding): {peak_memory_mb():.0f} MB")
            db.engine.dispose()


if __name__ == "__main__":
    main()
