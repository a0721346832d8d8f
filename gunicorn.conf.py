"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "survey_app:create_app()"`.

Each setting can be overridden from the environment (GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_WORKER_CLASS, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS,
GUNICORN_ACCESS_LOG). The app servers keep no state of their own (sessions are signed
cookies, rate-limit counters go to Redis when RATELIMIT_STORAGE_URI says so, generated files
to GENERATED_DIR on shared storage), so any number of them can run behind the reverse proxy.
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
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# No access log of our own by default: the reverse proxy in front keeps one (README, nginx with
# an anonymous log format), and formatting a line per request took 6% of a worker's time under
# bench/load.py. GUNICORN_ACCESS_LOG=- (or a file) turns it on, without the client's address
# (%(h)s): residents are anonymous, and a log line with an address and a time could be lined
# up against the order responses were stored.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def when_ready(server):
    # Everything the preloaded app holds (about 220,000 objects: SQLAlchemy, pandas,
    # matplotlib) goes to the permanent generation before workers fork, so the cyclic
    # garbage collector never walks it again (a full collection took 105-113 ms, about once
    # every 3,000 submissions per worker: a pause in the tail of the latencies) and never
    # writes to those pages, which therefore stay shared between the workers.
    import gc

    gc.freeze()
