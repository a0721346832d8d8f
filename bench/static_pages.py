"""Published results pages behind nginx: the repository's site configuration (deploy/nginx/) serving a
page from its file, against nginx serving the same bytes as a plain file, measured side by side.

    .venv/bin/python bench/static_pages.py                  # 2,000 responses, 8 turns of 3 s per side
    .venv/bin/python bench/static_pages.py --turns 2 --turn 1

Seeds the demo survey into a temporary SQLite database, analyses and publishes it (which writes
its pages: survey_app/results/static_pages.py), starts gunicorn and, in front of it, one nginx
(Debian's package; bench/nginx_front.py) with two servers: the site as deploy/nginx/survey.conf
configures it, and a plain one serving a copy of the page's bytes. wrk (Debian's package) drives
each side in turn, the same connections and threads, ``--turn`` seconds at a time, so that every
side is measured in the same minutes of this machine (its speed drifts by up to a half). Also
measured, for reference: the app itself (gunicorn) serving the page to an anonymous visitor.
Prints requests per second per side and the ratios; the target is 0.8 or more of the plain file.
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import nginx_front  # noqa: E402
from load import free_port  # noqa: E402

PATH = "/results/community-trust"
TARGET = 0.8


def flask(env, *args) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def wrk(url: str, seconds: float, threads: int, connections: int) -> tuple[float, int]:
    """(requests, non-2xx or socket errors) of one wrk run."""
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
                          "-H", "Accept-Language: en", url], capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out)[1])
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return requests, errors + (int(bad[1]) if bad else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=8, help="turns per side")
    parser.add_argument("--turn", type=float, default=3.0, help="seconds per turn")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk keep-alive connections")
    parser.add_argument("--nginx-workers", type=int, default=1)
    args = parser.parse_args()
    for tool in ("wrk", nginx_front.NGINX):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (apt-get install nginx-light wrk)")

    with tempfile.TemporaryDirectory(prefix="static-pages-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "FLASK_APP": "survey_app", "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
               "GENERATED_DIR": f"{tmp}/generated", "SECRET_KEY": "bench-" + "x" * 40}
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--responses", str(args.responses))
        flask(env, "analyze", "community-trust")
        flask(env, "publish", "community-trust")
        page = tmp / "generated" / "published" / "community-trust" / "pages" / "current.en.html"
        plain_dir = tmp / "plain"
        plain_dir.mkdir()
        shutil.copyfile(page, plain_dir / "page.html")

        app_port, site_port, plain_port = free_port(), free_port(), free_port()
        app = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                "--bind", f"127.0.0.1:{app_port}", "survey_app:create_app()"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        nginx = None
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{app_port}{PATH}", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.1)
            nginx = nginx_front.start(app_port, site_port, tmp / "generated", tmp / "nginx",
                                      plain=(plain_port, plain_dir), workers=args.nginx_workers)
            sides = {"nginx, site": f"http://127.0.0.1:{site_port}{PATH}",
                     "nginx, plain file": f"http://127.0.0.1:{plain_port}/page.html",
                     "app (gunicorn)": f"http://127.0.0.1:{app_port}{PATH}"}
            bodies = {name: urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Language": "en"}))
                      .read() for name, url in sides.items()}
            assert len(set(bodies.values())) == 1, "the sides do not serve the same bytes"
            for url in sides.values():  # warm up
                wrk(url, 1, args.threads, args.connections)
            totals = {name: [0, 0.0, 0] for name in sides}
            for _ in range(args.turns):
                for name, url in sides.items():
                    started = time.perf_counter()
                    requests, errors = wrk(url, args.turn, args.threads, args.connections)
                    totals[name][0] += requests
                    totals[name][1] += time.perf_counter() - started
                    totals[name][2] += errors
            print(f"{len(bodies['nginx, site']) / 1024:.0f} KiB page; wrk {args.threads} threads x "
                  f"{args.connections} connections; {args.turns} turns of {args.turn:g} s per side; "
                  f"nginx {args.nginx_workers} worker(s); 2 cores shared with the client")
            rps = {name: requests / seconds for name, (requests, seconds, _) in totals.items()}
            for name, value in rps.items():
                print(f"  {name:18} {value:9.0f} requests/s   errors {totals[name][2]}")
            ratio = rps["nginx, site"] / rps["nginx, plain file"]
            print(f"site / plain file: {ratio:.2f}x (target {TARGET}x or more); "
                  f"app / plain file: {rps['app (gunicorn)'] / rps['nginx, plain file']:.2f}x")
        finally:
            if nginx is not None:
                nginx_front.stop(nginx)
            app.terminate()
            app.wait(timeout=20)


if __name__ == "__main__":
    main()
