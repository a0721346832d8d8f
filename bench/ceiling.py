"""The resident path against its ceiling: the app and a bare Flask + SQLAlchemy endpoint doing the
same database work (bench/bare_app.py), driven by the same client (bench/load.py's residents),
taken in turn in one run, on SQLite and on PostgreSQL; prints each run and the ratio app/bare
of requests per second.

    .venv/bin/python bench/ceiling.py                     # 2 rounds of 30 s each way, both databases
    .venv/bin/python bench/ceiling.py --seconds 10 --rounds 1 --backend sqlite

This machine's speed drifts by up to a half within an hour, so a figure measured alone says
little; a ratio of runs taken in turn says how much of what Flask and SQLAlchemy can do the
app keeps. Each round runs the two in the opposite order of the round before (app, bare, bare,
app, ...) on a fresh database each, and the ratio is of the sums over the rounds. Every run
is checked as bench/load.py checks it (each acknowledged submission stored once, none partial).
The target is 0.6 or more on both databases. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import default_workers, run_load  # noqa: E402

TARGET = 0.6


def one_run(backend: str, served: str, args) -> dict:
    from survey_app.scratch import scratch_database

    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
        with scratch_database(args.postgres if backend == "postgresql" else None, Path(tmp),
                              prefix="survey_ceiling") as url:
            return run_load(url, tmp, args.seconds, args.residents, args.workers, clients=args.clients,
                            served=served)


def describe(served: str, f: dict) -> str:
    sound = (f["missing"] == f["duplicated"] == f["partial"] == 0 and f["integrity"] == "ok")
    return (f"    {served:4} {f['requests_per_second']:8.1f} requests/s  {f['per_second']:6.1f} submissions/s  "
            f"request p50 {f['request_p50']:5.1f} ms p99 {f['request_p99']:6.1f} ms  errors {f['errors']}  "
            f"{'stored exactly once' if sound else 'DATABASE CHECK FAILED: ' + repr(f)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server to create scratch databases on")
    args = parser.parse_args()
    args.workers = args.workers or default_workers(1)

    print(f"{args.residents} residents, {args.seconds:g} s per run, {args.rounds} round(s) each way, gunicorn "
          f"{args.workers} workers, {os.cpu_count()} cores shared with the clients")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    ratios = {}
    for backend in backends:
        print(backend)
        totals = {"app": 0.0, "bare": 0.0}
        for number in range(args.rounds):
            order = ("app", "bare") if number % 2 == 0 else ("bare", "app")
            figures = {served: one_run(backend, served, args) for served in order}
            for served in order:
                print(describe(served, figures[served]))
                totals[served] += figures[served]["requests_per_second"]
            print(f"    round {number + 1}: app/bare {figures['app']['requests_per_second'] / figures['bare']['requests_per_second']:.2f}")
        ratios[backend] = totals["app"] / totals["bare"]
    print("app/bare, requests per second (target >= %.1f):" % TARGET)
    for backend, ratio in ratios.items():
        print(f"  {backend:10} {ratio:.2f}x{'' if ratio >= TARGET else '  BELOW TARGET'}")


if __name__ == "__main__":
    main()
