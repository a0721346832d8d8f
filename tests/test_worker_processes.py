"""The app's part in a pre-forked worker's life (survey_app/worker_processes.py and the hooks in
gunicorn.conf.py): templates and catalogues made ready before fork, a clean exit without the
interpreter's finalisation, and a worker retiring after a request that took it past its memory
limit, shown with a real gunicorn."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from survey_app import worker_processes
from survey_app.extensions import db
from survey_app.scratch import scratch_database

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
sys.path.insert(0, str(ROOT / "bench"))


def test_prewarm_compiles_every_template_so_none_is_read_again(app, monkeypatch):
    templates = sorted(str(path.relative_to(ROOT / "survey_app" / "templates"))
                       for path in (ROOT / "survey_app" / "templates").rglob("*.html"))
    done = worker_processes.prewarm(app)
    assert done == {"templates": len(templates), "languages": 2}
    environment = app.jinja_env
    environment.auto_reload = False  # as in production: a compiled template is not checked on disk

    def read_from_disk(environment, template):
        raise AssertionError(f"{template} read from disk after prewarm")

    monkeypatch.setattr(environment.loader, "get_source", read_from_disk)  # the same loader: same cache keys
    for name in templates:
        assert environment.get_template(name).name == name  # from the compiled cache


def test_prewarm_opens_no_database_connection(app):
    with app.app_context():
        engine = db.engine
        engine.dispose()
        worker_processes.prewarm(app)
        assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0


def _leaving_with(code, app, monkeypatch):
    """Call exit_at_once as gunicorn's worker_exit hook is called: in the finally of the worker's
    life while its SystemExit(code) is on the way out; what os._exit was called with, if at all."""
    calls = []

    class Exited(BaseException):
        pass

    def fake_exit(status):
        calls.append(status)
        raise Exited

    monkeypatch.setattr(os, "_exit", fake_exit)
    try:
        try:
            sys.exit(code)
        finally:
            worker_processes.exit_at_once(app)
    except (SystemExit, Exited):
        pass
    return calls


def test_exit_at_once_ends_a_clean_exit_after_closing_the_connections(app, monkeypatch):
    disposed = []
    with app.app_context():
        engine = db.engine
    monkeypatch.setattr(type(engine), "dispose", lambda self, *a, **k: disposed.append(self))
    assert _leaving_with(0, app, monkeypatch) == [0]
    assert disposed == [engine]
    assert _leaving_with(None, app, monkeypatch) == [0]


@pytest.mark.parametrize("code", [3, 4, -1, "failed"])
def test_exit_at_once_leaves_an_error_exit_to_the_master(app, monkeypatch, code):
    disposed = []
    with app.app_context():
        monkeypatch.setattr(type(db.engine), "dispose", lambda self, *a, **k: disposed.append(self))
    assert _leaving_with(code, app, monkeypatch) == []  # the worker exits with its code, as gunicorn meant
    assert disposed == []


def test_exit_at_once_outside_an_exit_does_nothing(app, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "_exit", calls.append)
    worker_processes.exit_at_once(app)
    assert calls == []


def test_over_memory_compares_the_peak_with_the_limit():
    assert worker_processes.over_memory(0) is False  # no limit
    assert worker_processes.over_memory(1) is True  # any Python process is past 1 MiB
    assert worker_processes.over_memory(10_000_000) is False  # 10 TB


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is installed by make test")
def test_gunicorn_prewarms_and_retires_a_worker_past_its_memory_limit(tmp_path):
    """With a limit every worker is past (1 MiB), each request is served by a new worker: every
    answer is whole, each retired worker exits cleanly (gunicorn logs no exit code), and the master
    prewarmed before the first fork."""
    import load

    log = tmp_path / "gunicorn.log"
    with scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path, prefix="survey_retire") as url:
        env = {**load.server_env(url, str(tmp_path)), "GUNICORN_LOG_LEVEL": "info",
               "GUNICORN_MAX_WORKER_MEMORY_MB": "1"}
        load.prepare(env)
        port = load.free_port()
        with open(log, "w") as out:
            server = load.start_server(env, port, 1, output=out)
        try:
            resident = load.Resident([port])
            statuses = []
            for _ in range(4):
                resident.cookies = {}
                status, _, page = resident.request("GET", "/s/load")
                statuses.append(status)
                assert load.TOKEN.search(page), "a whole welcome page"
            # A resident's whole submission across three workers in turn.
            assert resident.submit("m-retire", [])
        finally:
            load.kill_server(server)
        text = log.read_text()
    assert statuses == [200] * 4
    assert "Prewarmed before fork" in text
    assert text.count("retiring after this request") >= 8, text
    assert text.count("Booting worker") >= 8, text
    assert "exited with code" not in text and "Traceback" not in text, text
