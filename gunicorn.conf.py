"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "survey_app:create_app()"`.

Each setting can be overridden from the environment (GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_WORKER_CLASS, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS,
GUNICORN_MAX_WORKER_MEMORY_MB, GUNICORN_ACCESS_LOG, GUNICORN_LOG_LEVEL; GUNICORN_PREWARM=0
and GUNICORN_EXIT_AT_ONCE=0 turn off the worker hooks at the end). The app servers keep no
state of their own (sessions are signed cookies, rate-limit counters go to Redis when
RATELIMIT_STORAGE_URI says so, generated files to GENERATED_DIR on shared storage), so any
number of them can run behind the reverse proxy.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The app is CPU-bound Python, so each worker is a process with one thread (sync workers),
# one more than there are cores so that a core never idles while a worker waits on the
# database. Measured with bench/load.py on 2 cores (20 s runs, twice): 3 sync workers stored
# 199 (SQLite) and 150-160 (PostgreSQL) submissions/s with p99 under 200 ms per request;
# 3 gthread workers x 1 thread, 172-219 and 127-152 with p99 240-480 ms (a kept-alive
# connection stays with a busy worker); 2 gthread workers x 4 threads, about 140 and 103,
# because threads of one process contend for its interpreter lock. Sync workers do not keep
# connections alive and need a buffering reverse proxy in front against slow clients (nginx;
# see README). GUNICORN_WORKER_CLASS=gthread GUNICORN_THREADS=4 gives threaded workers instead.
# Twice the cores plus one (gunicorn's usual advice) gained nothing here: 5 workers against 3,
# 40 s runs taken in turn on PostgreSQL (2026-12-02), stored 295.6 and 290.4 submissions/s
# against 312.9 and 301.2, with p99 102-105 against 97 ms per request and 257-315 against
# 253-273 ms per submission (shorter 20 s runs had shown 5 workers with a lower p99 per
# submission, 184-200 against 266-328 ms, which the longer runs did not repeat).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A sync worker that does not answer its master for this long is killed. The longest request
# is staff running an analysis from the weighting page (charts included, ~25 s at a million
# responses, bench/analysis.py); larger surveys are analysed with `flask analyze`.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5  # gthread workers only
# The app is imported once, in the master, and workers are forked from it: a worker starts in
# milliseconds instead of ~1.8 s of imports (pandas, matplotlib), which matters because workers
# are recycled under load. create_app opens no database connection, so none is shared by forks.
preload_app = True
# Requests are parsed by gunicorn's C parser (gunicorn_h1c, gunicorn's "fast" extra, in
# requirements.txt) when it is installed, else by its Python parser: "auto" (the default)
# picks it; the Python parser took 8.7% of a worker's time in one-resident runs.
# Workers are recycled after a number of requests (a backstop against slow growth) and after any
# request that took one past a memory limit (a large analysis run from a staff page: pandas and
# the allocator keep that memory). The residents' path does not grow a worker (RSS 289,020 kB
# after 200 submissions, 289,044 kB after 12,000), and each recycling costs: a new worker's
# first requests and its new database connection, and before survey_app/worker_processes.py
# also ~120 ms of CPU to exit and ~150 ms to warm up. At 5,000 requests a worker was replaced
# every ~17 s under bench/load.py; 40 s runs on PostgreSQL (2026-12-02), p99 per submission:
# 218-233 ms at 5,000, 186-195 ms at 20,000 (no recycling within the run), 184-190 ms never.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10
# Peak resident memory (MiB) past which a worker retires after its request; 0: no limit. A worker
# starts at about 290 MB (the preloaded app, mostly shared with the master); a full analysis of
# 1,000,000 responses peaked at 589 MB in a process of its own (bench/analysis.py).
_MAX_WORKER_MEMORY_MB = int(os.environ.get("GUNICORN_MAX_WORKER_MEMORY_MB", 1024))
# No access log of our own by default: the reverse proxy in front keeps one (README, nginx with
# an anonymous log format), and formatting a line per request took 6% of a worker's time under
# bench/load.py. GUNICORN_ACCESS_LOG=- (or a file) turns it on, without the client's address
# (%(h)s), and without the residents' requests at all (survey_app/access_log.py): residents are
# anonymous, and a line with a time for each page saved or submitted would place a response in
# time more finely than the date it keeps.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = "survey_app.access_log.AccessLogWithoutResidents"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def when_ready(server):
    # Runs in the master before the first workers fork. The templates compiled, the mappers
    # configured and the catalogues read once here instead of in every new worker's first
    # requests (survey_app/worker_processes.py: a new worker's first submission took 125-190 ms).
    if server.cfg.preload_app and os.environ.get("GUNICORN_PREWARM", "1") != "0":
        from survey_app.worker_processes import prewarm

        server.log.info("Prewarmed before fork: %s", prewarm(server.app.wsgi()))
    # Everything the preloaded app holds (about 220,000 objects: SQLAlchemy, pandas,
    # matplotlib) goes to the permanent generation before workers fork, so the cyclic
    # garbage collector never walks it again (a full collection took 105-113 ms, about once
    # every 3,000 submissions per worker: a pause in the tail of the latencies) and never
    # writes to those pages, which therefore stay shared between the workers.
    import gc

    gc.freeze()


def worker_exit(server, worker):
    # A worker leaving normally (recycled after max_requests, or the server stopping) closes its
    # database connections and ends without the interpreter's finalisation, which took ~120 ms
    # of CPU per worker (survey_app/worker_processes.py). A worker leaving with an error keeps
    # its exit code.
    if os.environ.get("GUNICORN_EXIT_AT_ONCE", "1") != "0":
        from survey_app.worker_processes import exit_at_once

        exit_at_once(getattr(worker, "wsgi", None))


def post_request(worker, req, environ, resp):
    from survey_app.worker_processes import over_memory

    if over_memory(_MAX_WORKER_MEMORY_MB):
        worker.log.info("Worker %s past %s MiB of memory: retiring after this request", worker.pid,
                        _MAX_WORKER_MEMORY_MB)
        worker.alive = False
