"""Benchmark: requests per second for a published results page, served by gunicorn on loopback.

    .venv/bin/python bench/results_rps.py                      # demo survey, 5,000 responses, 20 s
    .venv/bin/python bench/results_rps.py --seconds 5 --connections 8 --workers 2

Seeds the demo survey into a temporary SQLite database, analyses and publishes it, starts
gunicorn (``--workers`` processes, gthread) on a free loopback port, then drives the page
``/results/community-trust`` from separate client processes, each with keep-alive
connections in threads, for ``--seconds``. Prints requests per second, latency percentiles,
errors and the page size; also the same for a conditional request (``If-None-Match``, 304),
which is what a returning browser or a cache in front sends. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH = "/results/community-trust"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env, *args) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def client_process(port: int, path: str, seconds: float, connections: int, etag: str | None, out) -> None:
    """Keep-alive GETs from ``connections`` threads; sends back (latencies, errors, bytes)."""
    latencies: list[float] = []
    errors = [0]
    size = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"If-None-Match": etag} if etag else {}

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status in ((304,) if etag else (200,))
            except (OSError, http.client.HTTPException):
                ok, body = False, b""
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            if ok:
                mine.append(time.perf_counter() - started)
                size[0] = len(body)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, errors[0], size[0]))


def drive(port: int, seconds: float, processes: int, connections: int, etag: str | None = None) -> dict:
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client_process,
                                       args=(port, PATH, seconds, connections, etag, queue))
               for _ in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    size = max(r[2] for r in results)

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": percentile(50),
            "p99": percentile(99), "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
            "errors": errors, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per client process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="results-rps-") as tmp:
        env = {**os.environ, "FLASK_APP": "survey_app", "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
               "GENERATED_DIR": f"{tmp}/generated", "SECRET_KEY": "bench-" + "x" * 40}
        started = time.perf_counter()
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--responses", str(args.responses))
        flask(env, "analyze", "community-trust")
        flask(env, "publish", "community-trust")
        print(f"seeded, analysed and published {args.responses:,} responses in {time.perf_counter() - started:.1f} s")

        port = free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--worker-class", "gthread", "--threads", str(args.threads), "--log-level", "warning",
             "survey_app:create_app()"], env=env, cwd=ROOT)
        try:
            for _ in range(100):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", PATH)
                    response = conn.getresponse()
                    response.read()
                    etag = response.getheader("ETag")
                    if response.status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("gunicorn did not answer")
            drive(port, 2, 1, 2)  # warm every worker's caches
            print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), loopback; "
                  f"clients: {args.clients} processes x {args.connections} keep-alive connections, {args.seconds:g} s")
            for label, tag in (("full page (200)", None), ("conditional (304)", etag)):
                figures = drive(port, args.seconds, args.clients, args.connections, tag)
                print(f"  {label:18} {figures['rps']:8.0f} requests/s   p50 {figures['p50']:6.1f} ms   "
                      f"p99 {figures['p99']:6.1f} ms   errors {figures['errors']}   "
                      f"{figures['bytes'] / 1024:.0f} KiB per response")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
