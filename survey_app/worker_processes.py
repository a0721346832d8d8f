"""The app's part in the life of a pre-forked worker process (gunicorn's sync workers forked
from a master that loaded the app once, ``preload_app``; hooks in gunicorn.conf.py).

gunicorn recycles workers (``max_requests``, bounded memory), so under load a worker exits and a
new one starts every few seconds, and both ends of a worker's life cost CPU that the running
workers then do not have. Measured in process on the survey of bench/load.py (fork of a
preloaded app, the residents' flow):

- a new worker's first submission took 125-190 ms of CPU against 4-6 ms for the next ones:
  Jinja compiling every template it renders (about 125 ms), SQLAlchemy configuring the mappers,
  Flask-Babel reading the catalogues. ``prewarm`` does that once in the master before the
  workers fork, so that each inherits it: 52-58 ms (the rest is the survey read from the
  database and its forms built, which belong to each worker, and its first connection);
- a worker's normal exit took 117-120 ms of CPU (and about 24,000 page faults): the
  interpreter's finalisation frees every object the preloaded app made, writing to pages the
  workers had shared with the master. ``exit_at_once`` ends a worker that is done instead:
  its database connections closed properly, its log and output flushed, then ``os._exit``,
  7 ms.

Both together, in 40 s runs of bench/load.py on PostgreSQL taken in turn with and without them
(recycling every ~5,000 requests): p99 per submission 210-227 against 275-382 ms, per request
83-88 against 99-107 ms, 297-305 against 285-290 submissions/s. Without any recycling the p99
per submission was 184-190 ms.

The worker's resident path does not grow (RSS 289,020 kB after 200 submissions, 289,044 kB
after 12,000), so recycling after a count of requests is only a backstop (gunicorn.conf.py); what
does grow a worker is a large analysis run from a staff page (pandas keeps its high-water
mark). ``over_memory`` lets the worker retire after such a request instead.
"""
from __future__ import annotations

import logging
import os
import resource
import sys

from flask import Flask
from flask_babel import force_locale, get_translations
from sqlalchemy.orm import configure_mappers

from .i18n import LANGUAGES


def prewarm(app: Flask) -> dict:
    """Compile every template, configure the mappers, read each language's catalogue and build
    the URL matcher; what was done, by count (for the log and the tests).

    Opens no database connection (one made before fork would be shared by the workers), and
    depends only on the code, never on a survey: a worker serves the same pages as without it.
    """
    configure_mappers()
    environment = app.jinja_env
    names = environment.list_templates()
    for name in names:
        environment.get_template(name)
    with app.test_request_context("/"):  # also builds the URL map's matcher
        for language in LANGUAGES:
            with force_locale(language):
                get_translations()
    return {"templates": len(names), "languages": len(LANGUAGES)}


def exit_at_once(app: Flask | None) -> None:
    """End a worker that is leaving normally without the interpreter's finalisation.

    Called from gunicorn's ``worker_exit`` hook, which runs in the ``finally`` of the worker's
    life while its ``SystemExit`` is on its way out. Only a clean exit (code 0 or None) is
    shortened: a worker leaving with an error code keeps it, and the master's handling of it
    (a worker that failed to boot stops the server), unchanged.
    """
    leaving = sys.exc_info()[1]
    if not isinstance(leaving, SystemExit) or leaving.code not in (0, None):
        return
    if app is not None:
        from .extensions import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()  # each connection closed with its goodbye to the server
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def over_memory(limit_mb: int) -> bool:
    """Whether this process's peak resident memory has gone past ``limit_mb`` MiB (0: no limit).

    The peak (getrusage, one system call, about a microsecond) rather than the current size:
    memory a worker once took stays with it (the C allocator keeps it), and a worker that
    forked from the master starts with the master's size.
    """
    if limit_mb <= 0:
        return False
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_kib = peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux
    return peak_kib > limit_mb * 1024
