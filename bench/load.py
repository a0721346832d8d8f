"""Load test: residents submitting a survey through gunicorn, on SQLite (WAL) and PostgreSQL.

    .venv/bin/python bench/load.py                          # 50 residents, 60 s, SQLite then PostgreSQL
    .venv/bin/python bench/load.py --seconds 10 --backend sqlite
    .venv/bin/python bench/load.py --kill-at 5 --seconds 15  # SIGKILL the server mid-load, restart it
    .venv/bin/python bench/load.py --servers 2 --redis redis://127.0.0.1:6379/15  # scaled out

Each simulated resident does what a browser does for a one-page survey: GET the welcome page
(session cookie and CSRF token), POST Start (the draft and its cookie), POST the page (the
response is stored and the server answers 303 to the thank-you page). A 303 to the thank-you
page is an *acknowledged* submission. Every submission carries a unique marker in a text
answer, so that afterwards the database can be checked: every acknowledged marker is stored
exactly once, and no stored response is missing its answers. Prints submissions per second,
latency percentiles (per request and per submission) and errors. Figures are printed, never
asserted (the fault check is asserted: tests/test_fault.py runs it).
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "load"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OPTION = re.compile(r'name="q_(\w+)" value="(\d+)"')
DEFINITION = {
    "slug": SLUG, "title": "Load test", "min_cell_size": 10,
    "pages": [{"title": "Views", "questions": [
        {"code": "trust", "type": "scale", "text": "I trust the police.", "required": True,
         "config": {"scale": "agreement", "missing": ["dont_know"]}},
        {"code": "district", "type": "single_choice", "text": "District?", "required": True,
         "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
        {"code": "marker", "type": "text", "text": "Marker", "config": {"max_length": 64, "multiline": False}},
    ]}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, tmp: str) -> dict:
    return {**os.environ, "FLASK_APP": "survey_app", "DATABASE_URL": database_url,
            "GENERATED_DIR": f"{tmp}/generated", "SECRET_KEY": "load-test-" + "x" * 40,
            "START_RATE_LIMIT": "1000000 per hour", "PAGE_RATE_LIMIT": "1000000 per hour",
            "JOB_QUEUE_URL": f"sqlite:///{tmp}/jobs.sqlite",
            "GUNICORN_LOG_LEVEL": "warning"}  # and gunicorn.conf.py's defaults: no access log


def prepare(env: dict) -> None:
    """Schema and an open one-page survey."""
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code = ("from survey_app import create_app\nfrom survey_app.extensions import db\n"
            "from survey_app.questionnaire.definition import survey_from_definition\n"
            f"import json\napp = create_app()\nwith app.app_context():\n"
            f"    s = survey_from_definition(json.loads({repr(__import__('json').dumps(DEFINITION))}))\n"
            "    s.status = 'open'\n    db.session.add(s)\n    db.session.commit()\n")
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], env=env, cwd=ROOT, check=True)


# What gunicorn serves: the app, or a bare Flask + SQLAlchemy endpoint it is measured against
# (bench/bare_app.py, bench/ceiling.py), with its environment. The bare endpoints have no
# templates to compile before fork nor the app's connections to close at exit: gunicorn.conf.py's
# two worker hooks, which belong to the app, are off for them.
_BARE_ENV = {"GUNICORN_PREWARM": "0", "GUNICORN_EXIT_AT_ONCE": "0"}
SERVED = {
    "app": (["survey_app:create_app()"], {}),
    "bare-orm": (["--pythonpath", str(ROOT / "bench"), "bare_app:create_orm_app()"], _BARE_ENV),
    "bare-core": (["--pythonpath", str(ROOT / "bench"), "bare_app:create_core_app()"], _BARE_ENV),
}


def start_server(env: dict, port: int, workers: int, output=None, served: str = "app") -> subprocess.Popen:
    """gunicorn on ``port`` serving the app (or another of SERVED: bench/bare_app.py's endpoints),
    once it accepts connections; its log to ``output`` (a file) if given."""
    arguments, extra_env = SERVED[served]
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), *arguments],
        env={**env, **extra_env}, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT if output else None,
        start_new_session=True)  # its own process group: SIGKILL reaches every worker
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gunicorn did not start")


def kill_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def take_headers(cookies: dict[str, str], headers) -> str:
    """Keep the cookies a response's (name, value) headers set or delete, as a browser does;
    the response's Location, or ''."""
    location = ""
    for name, value in headers:
        name = name.lower()
        if name == "location":
            location = value
        elif name == "set-cookie":
            cookie, _, rest = value.partition("=")
            if "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                cookies.pop(cookie, None)
            else:
                cookies[cookie] = rest.split(";", 1)[0]
    return location


class Resident:
    """One browser: its cookies, and a new connection for each request.

    With several servers (``ports``), each request goes to the next one in turn, as behind a
    round-robin reverse proxy: a resident's three requests reach different servers.

    HTTP/1.1 over a plain socket, not http.client: the clients share the server's two cores,
    and http.client's header parsing (the email package) made them take 1.05 ms of CPU per
    submission, 15% of the machine, that the server then did not have. Each request says
    "Connection: close" (sync workers close after every response anyway), so a response is
    everything read until the server closes.
    """

    def __init__(self, ports: list[int]):
        self.ports = list(ports)
        self.turn = 0
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, separator, data = b"".join(chunks).partition(b"\r\n\r\n")
        if not separator:
            raise ConnectionError("connection closed before a whole response")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in header_lines)]
        return status, take_headers(self.cookies, headers), data.decode("utf-8", "replace")

    def submit(self, marker: str, timings: list) -> bool:
        """One whole submission; True when acknowledged (303 to the thank-you page), else raises."""
        # A new resident each time: a new browser, so new cookies.
        self.cookies = {}
        started = time.perf_counter()
        status, _, page = self.request("GET", f"/s/{SLUG}")
        timings.append(time.perf_counter() - started)
        token = TOKEN.search(page).group(1)
        t = time.perf_counter()
        status, location, _ = self.request("POST", f"/s/{SLUG}/start", {"csrf_token": token})
        timings.append(time.perf_counter() - t)
        if status != 303:
            raise RuntimeError(f"start: {status}")
        options = getattr(self, "options", None)
        if options is None:
            t = time.perf_counter()
            _, _, form_page = self.request("GET", f"/s/{SLUG}/page/1")
            timings.append(time.perf_counter() - t)
            options = self.options = {}
            for name, value in OPTION.findall(form_page):
                options.setdefault(name, value)
        t = time.perf_counter()
        status, location, _ = self.request("POST", f"/s/{SLUG}/page/1", {
            "csrf_token": token, "action": "next", "q_trust": options["trust"], "q_district": options["district"],
            "q_marker": marker})
        timings.append(time.perf_counter() - t)
        if not (status == 303 and location.endswith("/thanks")):
            raise RuntimeError(f"page: {status} {location}")
        return True


def client_process(ports: list[int], residents: int, seconds: float, out) -> None:
    deadline = time.perf_counter() + seconds
    acknowledged, request_times, submit_times = [], [], []
    errors: collections.Counter = collections.Counter()  # what went wrong, and how often
    lock = threading.Lock()

    def run(index: int):
        resident = Resident(ports)
        mine_ack, mine_req, mine_sub, mine_err = [], [], [], collections.Counter()
        while time.perf_counter() < deadline:
            marker = f"m-{uuid.uuid4().hex}"
            started = time.perf_counter()
            try:
                resident.submit(marker, mine_req)
            except Exception as error:
                mine_err[f"{type(error).__name__}: {str(error)[:80]}"] += 1
                time.sleep(0.05)  # the server may be restarting
            else:
                mine_ack.append(marker)
                mine_sub.append(time.perf_counter() - started)
        with lock:
            acknowledged.extend(mine_ack)
            request_times.extend(mine_req)
            submit_times.extend(mine_sub)
            errors.update(mine_err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(residents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((acknowledged, request_times, submit_times, errors))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else float("nan")


def check_database(database_url: str, acknowledged: list[str]) -> dict:
    """Every acknowledged marker stored exactly once; every stored response whole; the database sound."""
    from sqlalchemy import create_engine, text

    from survey_app.config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT a.text, COUNT(*) FROM answer a JOIN question q ON q.id = a.question_id "
            "WHERE q.code = 'marker' GROUP BY a.text")).all()
        partial = connection.execute(text(
            "SELECT COUNT(*) FROM response r WHERE (SELECT COUNT(*) FROM answer a WHERE a.response_id = r.id) < 3"
        )).scalar_one()
        responses = connection.execute(text("SELECT COUNT(*) FROM response")).scalar_one()
        integrity = "ok"
        if connection.dialect.name == "sqlite":
            integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
    engine.dispose()
    counts = dict(stored)
    return {
        "responses": responses,
        "missing": sum(1 for m in acknowledged if m not in counts),
        "duplicated": sum(1 for n in counts.values() if n > 1),
        "partial": partial,
        "integrity": integrity,
        "unacknowledged_but_stored": responses - len(set(acknowledged) & set(counts)),
    }


def default_workers(servers: int) -> int:
    """gunicorn.conf.py's number of workers (its default or WEB_CONCURRENCY), shared among the servers."""
    return max(1, runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] // servers)


def run_load(database_url: str, tmp: str, seconds: float = 60, residents: int = 50, workers: int | None = None,
             kill_at: float | None = None, clients: int = 2, servers: int = 1, env: dict | None = None,
             served: str = "app") -> dict:
    """Drive the load (optionally SIGKILL the servers at ``kill_at`` seconds and restart them) and check
    the database. ``servers`` gunicorn servers share the database (and ``env``, e.g. a Redis for the
    rate-limit counters); residents go from one to the next at every request. ``served`` names
    another of SERVED to drive instead of the app (a bare endpoint, over the same prepared database)."""
    env = {**server_env(database_url, tmp), **(env or {})}
    prepare(env)
    workers = workers or default_workers(servers)
    ports = [free_port() for _ in range(servers)]
    running = [start_server(env, port, workers, served=served) for port in ports]
    queue = multiprocessing.Queue()
    per_process = max(1, residents // clients)
    processes = [multiprocessing.Process(target=client_process, args=(ports, per_process, seconds, queue))
                 for _ in range(clients)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    killed = False
    try:
        if kill_at is not None:
            time.sleep(kill_at)
            for server in running:
                kill_server(server)
            killed = True
            time.sleep(0.5)
            running = [start_server(env, port, workers, served=served) for port in ports]
        results = [queue.get() for _ in processes]
        for process in processes:
            process.join()
    finally:
        for server in running:
            if server.poll() is None:
                kill_server(server)
    elapsed = time.perf_counter() - started
    acknowledged = [m for r in results for m in r[0]]
    request_times = [t for r in results for t in r[1]]
    submit_times = [t for r in results for t in r[2]]
    error_kinds = sum((r[3] for r in results), collections.Counter())
    errors = sum(error_kinds.values())
    figures = {
        "submissions": len(acknowledged), "per_second": len(acknowledged) / elapsed,
        "requests": len(request_times), "requests_per_second": len(request_times) / elapsed, "errors": errors,
        "error_kinds": dict(error_kinds),
        "request_p50": percentile(request_times, 50), "request_p99": percentile(request_times, 99),
        "submit_p50": percentile(submit_times, 50), "submit_p99": percentile(submit_times, 99),
        "killed": killed,
    }
    figures.update(check_database(database_url, acknowledged))
    return figures


def report(label: str, f: dict) -> None:
    print(f"  {label:10} {f['per_second']:7.1f} submissions/s ({f['submissions']:,} acknowledged)   "
          f"request p50 {f['request_p50']:.1f} ms p99 {f['request_p99']:.1f} ms   "
          f"submission p50 {f['submit_p50']:.1f} ms p99 {f['submit_p99']:.1f} ms   errors {f['errors']}")
    for kind, count in sorted(f["error_kinds"].items(), key=lambda item: -item[1]):
        print(f"  {'':10} error x{count}: {kind}")
    print(f"  {'':10} database: {f['responses']:,} responses, acknowledged but missing {f['missing']}, "
          f"stored twice {f['duplicated']}, partial {f['partial']}, integrity {f['integrity']}"
          + (", server SIGKILLed and restarted" if f["killed"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers per server (default: gunicorn.conf.py's, cores + 1, shared among the servers)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server to create a scratch database on")
    parser.add_argument("--kill-at", type=float, default=None, help="SIGKILL the server after this many seconds")
    parser.add_argument("--clients", type=int, default=2,
                        help="client processes the residents are shared among (threads in each)")
    parser.add_argument("--servers", type=int, default=1,
                        help="gunicorn servers over the one database, taken in turn at every request")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="rate-limit counters in this Redis (as several servers need), e.g. redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    from survey_app.scratch import scratch_database

    workers = args.workers or default_workers(args.servers)
    kind = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
    print(f"{args.residents} residents for {args.seconds:g} s, {args.servers} gunicorn server(s) x {workers} "
          f"workers ({kind}), rate-limit counters in {'Redis' if args.redis else 'memory'}, loopback, "
          f"{os.cpu_count()} cores shared with the clients")
    env = {"RATELIMIT_STORAGE_URI": args.redis} if args.redis else {}
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="load-") as tmp:
            with scratch_database(args.postgres if backend == "postgresql" else None, Path(tmp),
                                  prefix="survey_load") as url:
                figures = run_load(url, tmp, args.seconds, args.residents, workers, args.kill_at,
                                   clients=args.clients, servers=args.servers, env=env)
                report(backend, figures)


if __name__ == "__main__":
    main()
