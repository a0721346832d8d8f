"""`flask analyze` against the best peer, svy, on the same data, measured side by side in one run.

    .venv/bin/python bench/versus_svy.py                          # 1,000,000 responses, SQLite, 3 rounds
    .venv/bin/python bench/versus_svy.py --responses 10000000 --rounds 1
    .venv/bin/python bench/versus_svy.py --database postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/analysis.py --seed-only sqlite:////data/m10.db --responses 10000000
    .venv/bin/python bench/versus_svy.py --seeded sqlite:////data/m10.db --app-only --rounds 1
                                                                  # ten million, seeded once, the app alone

Seeds bench/analysis.py's 30-item questionnaire (four population margins) with N responses in a
child process, and writes what the peer needs from it once, untimed: the respondents as CSV (the
four margin variables and every 5-point item, one row each) and the margins' controls as the app
rakes to them. Then, in turns, each as a whole process from its start to its exit:

* the app: ``flask analyze bench-trust`` (loading from the database, raking, indices, every item
  overall and by four breakdowns with SEs, gaps and disclosure control, a chart per item,
  results.json);
* the peer: bench/svy_peer.py (svy as pinned: read the CSV, rake, the mean and percent agreeing
  of ``--peer-items`` 5-point items (4: the questionnaire's trust items) overall and by district,
  with SEs), a smaller job: the app does every item, four breakdowns and much more.

Prints each side's wall time per round, its peak memory (the proportional set size of the process
and its children together: the app's chart workers are forked, sharing its memory), and the ratio app / peer of the
medians (target: 1.0 or less). The second and later rounds of the app find the closed wave's
frame cached (analysis/frame_cache.py) as a site's second analysis would; the first is printed
apart. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PYTHON = str(ROOT / ".venv" / "bin" / "python")
FLASK = str(ROOT / ".venv" / "bin" / "flask")


def export_for_peer(url: str, folder: Path, peer_items: int) -> tuple[Path, Path, list[str]]:
    """The respondents as CSV and the controls as JSON, from the app's own loading and margins."""
    import numpy as np

    from analysis import make_app
    from survey_app.analysis.frame import load_codebook, load_survey_data
    from survey_app.analysis.weighting import build_controls, load_margins, respondent_categories
    from survey_app.extensions import db

    app = make_app(url, str(folder / "unused"))
    with app.app_context(), db.engine.connect() as connection:
        codebook = load_codebook(connection, "bench-trust")
        data = load_survey_data(connection, codebook)
        margins = load_margins(connection, codebook.survey_id)
        db.engine.dispose()
    categories, controls, _ = build_controls(data.frame, margins, codebook)
    items = [q.code for q in codebook.questions if q.type == "scale"]
    import polars as pl

    columns = {variable: respondent_categories(data.frame, variable) for variable in categories}
    for item in items:
        values = data.frame[item].astype("float64").to_numpy()
        columns[item] = np.where(values > 0, values, 0).astype(np.int8)
    csv_path, controls_path = folder / "respondents.csv", folder / "controls.json"
    pl.DataFrame(columns).write_csv(csv_path)
    items = items[:peer_items]
    controls_path.write_text(json.dumps({"items": items, "controls": {
        v: {str(code): total for code, total in c.items()} for v, c in controls.items()}}), "utf-8")
    return csv_path, controls_path, items


def _tree(root: int) -> list[int]:
    """The process and its descendants (the app's chart workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, waiting = [], [root]
    while waiting:
        pid = waiting.pop()
        tree.append(pid)
        waiting.extend(children.get(pid, []))
    return tree


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size of the processes together: memory they share (forked workers)
    counted once, split between them."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total / 1024


def timed(command: list[str], env: dict, log: Path) -> tuple[float, float, str]:
    """Wall seconds and peak memory (MB) of one child process with its own children (the
    largest proportional set size of the whole tree, sampled four times a second), and its
    output."""
    import threading

    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.wait(0.25):
                peak[0] = max(peak[0], _pss_mb(_tree(process.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return seconds, max(peak[0], usage.ru_maxrss / 1024), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-items", type=int, default=4,
                        help="5-point items the peer estimates (the questionnaire's first ones: trust in the police)")
    parser.add_argument("--database", default=None, help="PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--seeded", default=None, metavar="URL",
                        help="a database bench/analysis.py --seed-only has already seeded (e.g. "
                             "sqlite:////path/m10.db; seeding ten million takes a quarter of an hour): "
                             "used as it is, never changed but for the analysis's own tables")
    parser.add_argument("--app-only", action="store_true", help="time the app alone (no peer, no export)")
    args = parser.parse_args()
    from survey_app.scratch import scratch_database

    with tempfile.TemporaryDirectory(prefix="versus-svy-") as folder, \
            contextlib.nullcontext(args.seeded) if args.seeded else \
            scratch_database(args.database, Path(folder), prefix="survey_versus") as url:
        folder = Path(folder)
        started = time.perf_counter()
        if not args.seeded:
            subprocess.run([PYTHON, str(ROOT / "bench" / "analysis.py"), "--seed-only", url, "--responses",
                            str(args.responses)], check=True)
        if not args.app_only:
            csv_path, controls_path, items = export_for_peer(url, folder, args.peer_items)
            print(f"{args.responses:,} responses seeded and exported in {time.perf_counter() - started:.0f} s; "
                  f"the peer estimates {len(items)} items", flush=True)
        env = {**os.environ, "FLASK_APP": "survey_app", "DATABASE_URL": url, "GENERATED_DIR": str(folder / "generated"),
               "SECRET_KEY": "bench-" + "x" * 40}
        app_command = [FLASK, "analyze", "bench-trust"]
        sides = [("app", app_command)]
        if not args.app_only:
            sides.append(("peer", [PYTHON, str(ROOT / "bench" / "svy_peer.py"), str(csv_path), str(controls_path)]))
        rounds = {"app": [], "peer": []}
        peaks = {"app": [], "peer": []}
        for number in range(args.rounds + 1):
            for side, command in sides:
                seconds, peak, _ = timed(command, env, folder / f"{side}.log")
                print(f"  round {number}: {side:4} {seconds:7.2f} s   peak {peak:6.0f} MB", flush=True)
                rounds[side].append(seconds)
                peaks[side].append(peak)
        first = rounds["app"][0]
        if args.app_only:
            app = statistics.median(rounds["app"][1:])
            print(f"app (flask analyze, whole process): first analysis {first:.2f} s, then median {app:.2f} s "
                  f"(frame cached); peak {max(peaks['app']):.0f} MB")
            return
        app, peer = statistics.median(rounds["app"][1:]), statistics.median(rounds["peer"][1:])
        print(f"app (flask analyze, whole process): median {app:.2f} s (first analysis, frame not cached: {first:.2f} s), "
              f"peak {max(peaks['app']):.0f} MB")
        print(f"peer (svy, whole process): median {peer:.2f} s, peak {max(peaks['peer']):.0f} MB")
        print(f"app / peer: {app / peer:.2f}x (target 1.0 or less); first analysis / peer: {first / peer:.2f}x")


if __name__ == "__main__":
    main()
