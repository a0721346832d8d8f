"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "survey_app:create_app()"`.

Each setting can be overridden from the environment (GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_THREADS). The app servers keep no state of their own (sessions are signed cookies,
rate-limit counters go to Redis when RATELIMIT_STORAGE_URI says so, generated files to
GENERATED_DIR on shared storage), so any number of them can run behind the reverse proxy.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The app is CPU-bound Python: one process per core, a few threads each for requests that wait
# on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30
graceful_timeout = 30
keepalive = 5
# The app is imported once, in the master, and workers are forked from it: a worker starts in
# milliseconds instead of ~1.8 s of imports (pandas, matplotlib), which matters because workers
# are recycled under load. create_app opens no database connection, so none is shared by forks.
preload_app = True
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# Access log without the client's address (%(h)s): residents are anonymous, and a log line
# with an address and a time could be lined up against the order responses were stored.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
