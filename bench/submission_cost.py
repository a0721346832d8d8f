"""What one resident's submission costs the app server, in process (no HTTP server, no clients).

    .venv/bin/python bench/submission_cost.py                      # SQLite, 2,000 submissions
    .venv/bin/python bench/submission_cost.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/submission_cost.py --profile 25          # cProfile, 25 lines by own time
    PROFILE_DUMP=/tmp/submission.prof .venv/bin/python bench/submission_cost.py --profile 5
                                                                    # ... and the whole profile saved for pstats
    .venv/bin/python bench/submission_cost.py --served bare-core    # the same for a bare endpoint (bare_app.py)
    valgrind --tool=callgrind .venv/bin/python bench/submission_cost.py --submissions 200 --warmup 50

The flow of bench/load.py's residents (welcome page, Start, the one page posted), called on the
WSGI app directly with hand-built requests, so that what is measured is the app's own work:
Flask, the extensions, SQLAlchemy and the driver, and the app's code. Prints the CPU time of
this process per submission (the database server's work is not in it) and the same figure
divided by a fixed pure-Python loop timed beside it, since this machine's speed drifts by a
half within an hour: the second figure compares runs made at different times. Under
callgrind the instruction count compares changes exactly. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import Resident, take_headers  # noqa: E402  (the same residents, survey and pages)


def reference_loop() -> float:
    """Seconds of CPU for a fixed piece of pure Python (dict and str work, like a request's)."""
    started = time.process_time()
    table = {}
    for i in range(1_000_000):
        table[i % 1000] = str(i)
    return time.process_time() - started


class Browser(Resident):
    """bench/load.py's resident (its cookies and its submission), with each request made as a
    WSGI environ dict (what gunicorn hands the app) and given to the app directly."""

    def __init__(self, app):
        super().__init__(ports=[])
        self.app = app

    def request(self, method: str, path: str, form: dict | None = None):
        body = urlencode(form or {}, doseq=True).encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        if form is not None:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return answer["status"], take_headers(self.cookies, answer["headers"]), data.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server to make a scratch database on")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile the measured submissions and print the N costliest functions")
    parser.add_argument("--served", choices=("app", "bare-orm", "bare-core"), default="app",
                        help="the app, or one of bench/bare_app.py's endpoints")
    args = parser.parse_args()

    from load import prepare, server_env

    from survey_app.scratch import scratch_database

    with tempfile.TemporaryDirectory(prefix="cost-") as tmp:
        with scratch_database(args.postgres, Path(tmp), prefix="survey_cost") as url:
            env = server_env(url, tmp)
            prepare(env)
            os.environ.update(env)
            from survey_app import create_app

            import bare_app

            app = {"app": create_app, "bare-orm": bare_app.create_orm_app,
                   "bare-core": bare_app.create_core_app}[args.served]()
            browser = Browser(app)  # a new resident (no cookies) at every submission
            for i in range(args.warmup):
                browser.submit(f"w-{i}", [])
            reference = reference_loop()
            profiler = cProfile.Profile() if args.profile else None
            started = time.process_time()
            if profiler:
                profiler.enable()
            for i in range(args.submissions):
                browser.submit(f"m-{i}", [])
            if profiler:
                profiler.disable()
            spent = time.process_time() - started
            reference = (reference + reference_loop()) / 2
            per = spent / args.submissions
            print(f"{args.served}, {'postgresql' if args.postgres else 'sqlite'}: {per * 1000:.3f} ms of CPU per submission "
                  f"({args.submissions} submissions), {per / reference:.4f} reference loops "
                  f"(loop {reference * 1000:.0f} ms)")
            if profiler:
                stats = pstats.Stats(profiler, stream=sys.stdout)
                if os.environ.get("PROFILE_DUMP"):
                    stats.dump_stats(os.environ["PROFILE_DUMP"])
                stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(args.profile)
                for name in filter(None, os.environ.get("PROFILE_CALLERS", "").split(",")):
                    stats.print_callers(name)
            if args.served == "app":  # (the scratch database is dropped with FORCE in any case)
                from survey_app.extensions import db

                with app.app_context():
                    db.engine.dispose()


if __name__ == "__main__":
    main()
