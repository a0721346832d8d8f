"""Fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set).

Each run gets its own database: a temporary SQLite file, or a fresh
PostgreSQL database created on the server TEST_DATABASE_URL points at and
dropped at the end. The schema is made by the migrations, not by
``create_all``, so every test runs against what production gets. After each
test all tables are emptied.
"""
from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from survey_app import create_app
from survey_app.extensions import db
from survey_app.scratch import scratch_database

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def fresh_database(tmp_dir):
    """A new, empty database for this run (SQLite file, or PostgreSQL database on TEST_DATABASE_URL's server)."""
    return scratch_database(TEST_DATABASE_URL, tmp_dir, prefix="survey_test")


def make_test_config(database_url: str, generated_dir) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "GENERATED_DIR": str(generated_dir),
        "DEMO_ADMIN_FILE": os.path.join(str(generated_dir), "..", "demo-admin.txt"),
        "PUBLIC_BASE_URL": "http://localhost",  # the test client's host
        # Every request sees a change at once (tests change a survey and look at once);
        # tests/test_survey_cache.py tests the welcome page's second of grace itself.
        "RESIDENT_PAGE_MAX_AGE_SECONDS": 0,
        # A background job runs inside the request that starts it; tests/test_jobs.py runs a
        # real worker beside a real gunicorn.
        "JOB_QUEUE_URL": "immediate",
    }


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_leg: tests nothing of the database (a page in a browser, a "
                                       "computation): run once, on the SQLite leg, not again on PostgreSQL")


def pytest_collection_modifyitems(config, items):
    if not TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="database-independent: runs on the SQLite leg (CI runs both legs)")
    for item in items:
        if "sqlite_leg" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One migrated database for the whole run."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        app = create_app(make_test_config(url, tmp_path_factory.mktemp("generated")))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


def _empty_all_tables() -> None:
    db.session.remove()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(make_test_config(database_url, tmp_path / "generated"))
    with app.app_context():
        yield app
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """The demo questionnaire with 3,000 synthetic responses, loaded as the analysis sees it."""
    from survey_app.analysis.frame import load_codebook, load_survey_data
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=3000, seed=5)
    with db.engine.connect() as connection:
        codebook = load_codebook(connection, survey.slug)
        return load_survey_data(connection, codebook)


# --- Browser tests ---------------------------------------------------------------------------
# A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the app
# served on a free loopback port from a thread. Without Chromium the browser tests are skipped
# with the reason, unless REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure.

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "instance", "screenshots")


@pytest.fixture
def live_server(app, database_url, tmp_path):
    import threading

    from werkzeug.serving import make_server

    served = create_app(make_test_config(database_url, app.config["GENERATED_DIR"]))
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with served.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required (REQUIRE_BROWSER=1) but {CHROMIUM} does not exist")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver); "
                    "CI installs it and runs these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def screenshot(page, name: str, width: int | None = None) -> str:
    """Save a full-page screenshot under instance/screenshots/ (at ``width`` if given)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    if width:
        page.set_viewport_size({"width": width, "height": 900})
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


# --- A real gunicorn ---------------------------------------------------------------------------
# Attacks an issue names are replayed over HTTP against gunicorn (gunicorn.conf.py, sync workers
# forked from a preloaded app), as an outsider would reach the site, over this run's database.

class RealServer:
    """gunicorn serving the test database; ``url(path)`` and ``log()`` (its output so far)."""

    def __init__(self, base_url: str, log_path, env: dict):
        self.base_url = base_url
        self.log_path = log_path
        self.env = env  # what gunicorn was started with (a job worker gets the same)

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def real_server_env() -> dict:
    return {}


@pytest.fixture
def real_server(app, database_url, tmp_path, real_server_env):
    """gunicorn (2 workers, or WEB_CONCURRENCY) on a free loopback port, over the same database and generated files
    as ``app``: a test sets data up with the factories, then speaks HTTP to this server.
    A module overrides the ``real_server_env`` fixture (a dict) to add to its environment."""
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
    import load

    env = {**load.server_env(database_url, str(tmp_path)), "GENERATED_DIR": app.config["GENERATED_DIR"],
           "SECRET_KEY": app.config["SECRET_KEY"], "GUNICORN_LOG_LEVEL": "info", **real_server_env}
    port = load.free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as output:
        process = load.start_server(env, port, int(env.get("WEB_CONCURRENCY", 2)), output=output)
        try:
            yield RealServer(f"http://127.0.0.1:{port}", log_path, env)
        finally:
            load.kill_server(process)


class JobWorker:
    """``flask jobs worker`` beside a real server (same database, same job queue file)."""

    def __init__(self, env: dict, log_path):
        self.env, self.log_path, self.process = env, log_path, None

    def start(self) -> None:
        import subprocess
        import sys

        output = open(self.log_path, "ab")
        self.process = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "flask"), "jobs", "worker"],
                                        env=self.env, cwd=os.path.join(os.path.dirname(__file__), ".."),
                                        stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        output.close()

    def kill(self) -> None:
        """SIGKILL, as when a machine or container dies: no chance to finish anything."""
        import signal

        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def job_worker(real_server, tmp_path):
    """A job worker for ``real_server``, started (``kill()`` and ``start()`` it again to test a restart)."""
    worker = JobWorker(real_server.env, tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.kill()
