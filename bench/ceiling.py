"""The resident path against its ceilings: the app and two bare Flask + SQLAlchemy endpoints doing
the same database work (bench/bare_app.py: Flask-SQLAlchemy's session and ORM, the everyday
way; SQLAlchemy Core with the statements written out, the least there can be), driven by the
same client (bench/load.py's residents) in one run, on SQLite and on PostgreSQL; prints the
ratio app/bare of requests per second against each.

    .venv/bin/python bench/ceiling.py                       # 90 s per database, in 3 s turns
    .venv/bin/python bench/ceiling.py --seconds 30 --backend sqlite

The three servers run at once, each over a database of its own prepared alike (gunicorn.conf.py's
workers, loopback, the cores shared with the clients), and the residents take turns: for
``--turn`` seconds every resident submits to the app, for the next turn to one bare endpoint,
then the other, and so on until the end. A server whose turn it is not waits idle. This
machine's speed drifts by up to a half within minutes (other work shares it), and turns of a
few seconds put every side in the same minutes: the ratios hold where figures measured alone
do not. A submission belongs to the turn it started in (one that runs over into the next turn
counts for its own side; every side does this alike). Each database is checked as
bench/load.py checks it: every acknowledged submission stored exactly once, none partial.
The target is 0.6 or more of the everyday endpoint (bare-orm) on both databases. Figures are
printed, never asserted.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import (  # noqa: E402
    Resident,
    check_database,
    default_workers,
    free_port,
    kill_server,
    percentile,
    prepare,
    server_env,
    start_server,
)

TARGET = 0.6
SIDES = ("app", "bare-orm", "bare-core")  # load.SERVED's names


def _tally() -> dict:
    return {"acknowledged": [], "requests": [], "errors": collections.Counter(), "warming": []}


def client_process(ports: dict, started: float, turn: float, turns: int, residents: int, out) -> None:
    """``residents`` threads, each submitting to the side whose turn it is (time.monotonic is the
    system's clock, the same in every process). The first turn of each side warms it up (its
    workers' first requests, its database's first pages): its submissions are checked in the
    database like the others, but not counted."""
    sides = list(ports)
    end = started + turn * turns
    lock = threading.Lock()
    found = {side: _tally() for side in sides}

    def run():
        browsers = {side: Resident([ports[side]]) for side in sides}  # each side's page has its own values
        mine = {side: _tally() for side in sides}
        while (now := time.monotonic()) < end:
            if now < started:
                time.sleep(started - now)
                continue
            number = int((now - started) // turn)
            side, warming = sides[number % len(sides)], number < len(sides)
            marker = f"m-{uuid.uuid4().hex}"
            timings = []
            try:
                browsers[side].submit(marker, timings)
            except Exception as error:
                mine[side]["errors"][f"{type(error).__name__}: {str(error)[:80]}"] += 1
                time.sleep(0.05)
            else:
                mine[side]["warming" if warming else "acknowledged"].append(marker)
            if not warming:
                mine[side]["requests"] += timings
        with lock:
            for side in sides:
                for key, value in mine[side].items():
                    found[side][key] += value

    threads = [threading.Thread(target=run) for _ in range(residents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(found)


def measure(backend: str, args, sides=SIDES) -> dict:
    """Every side's server up, the residents taking turns between them; each side's figures."""
    from survey_app.scratch import scratch_database

    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp, contextlib.ExitStack() as stack:
        urls, ports = {}, {}
        for side in sides:
            folder = Path(tmp) / side
            folder.mkdir()
            urls[side] = stack.enter_context(scratch_database(
                args.postgres if backend == "postgresql" else None, folder, prefix=f"survey_ceiling_{side.replace('-', '_')}"))
            env = server_env(urls[side], str(folder))
            prepare(env)
            ports[side] = free_port()
            stack.callback(kill_server, start_server(env, ports[side], args.workers, served=side))
        counted = max(len(sides), round(args.seconds / args.turn))
        counted -= counted % len(sides)  # as many turns for each side
        turns = counted + len(sides)  # and one more each, to warm up
        queue = multiprocessing.Queue()
        started = time.monotonic() + 2  # every client process ready before the first turn
        per_process = max(1, args.residents // args.clients)
        processes = [multiprocessing.Process(target=client_process,
                                             args=(ports, started, args.turn, turns, per_process, queue))
                     for _ in range(args.clients)]
        for process in processes:
            process.start()
        results = [queue.get() for _ in processes]
        for process in processes:
            process.join()
        seconds_each = args.turn * counted / len(sides)
        figures = {}
        for side in sides:
            acknowledged = [m for r in results for m in r[side]["acknowledged"]]
            warming = [m for r in results for m in r[side]["warming"]]
            requests = [t for r in results for t in r[side]["requests"]]
            errors = sum((r[side]["errors"] for r in results), collections.Counter())
            figures[side] = {
                "requests_per_second": len(requests) / seconds_each,
                "per_second": len(acknowledged) / seconds_each,
                "request_p50": percentile(requests, 50), "request_p99": percentile(requests, 99),
                "errors": sum(errors.values()), "error_kinds": dict(errors),
                **check_database(urls[side], acknowledged + warming),
            }
        return figures


def describe(side: str, f: dict) -> str:
    sound = f["missing"] == f["duplicated"] == f["partial"] == 0 and f["integrity"] == "ok"
    line = (f"    {side:4} {f['requests_per_second']:7.1f} requests/s  {f['per_second']:6.1f} submissions/s  "
            f"request p50 {f['request_p50']:5.1f} ms p99 {f['request_p99']:6.1f} ms  errors {f['errors']}  "
            + ("stored exactly once" if sound else f"DATABASE CHECK FAILED: {f}"))
    for kind, count in sorted(f["error_kinds"].items(), key=lambda item: -item[1]):
        line += f"\n         error x{count}: {kind}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90, help="per database, every side together")
    parser.add_argument("--turn", type=float, default=3, help="seconds each side has the residents in turn")
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--clients", type=int, default=2, help="client processes the residents are shared among")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers per server (default: gunicorn.conf.py's)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server to create scratch databases on")
    args = parser.parse_args()
    args.workers = args.workers or default_workers(1)

    print(f"{args.residents} residents taking turns of {args.turn:g} s between the app and two bare endpoints "
          f"for {args.seconds:g} s, gunicorn {args.workers} sync workers each, {os.cpu_count()} cores shared "
          f"with the clients")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    ratios = {}
    for backend in backends:
        figures = measure(backend, args)
        print(backend)
        for side in SIDES:
            print(describe(side, figures[side]))
        ratios[backend] = {side: figures["app"]["requests_per_second"] / figures[side]["requests_per_second"]
                           for side in SIDES[1:]}
    print(f"app/bare, requests per second (target: {TARGET} or more of bare-orm):")
    for backend, against in ratios.items():
        print(f"  {backend:10} " + "   ".join(f"{ratio:.2f}x of {side}" for side, ratio in against.items())
              + ("" if against["bare-orm"] >= TARGET else "   BELOW TARGET"))


if __name__ == "__main__":
    main()
