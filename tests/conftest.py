"""Fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set).

Each run gets its own database: a temporary SQLite file, or a fresh
PostgreSQL database created on the server TEST_DATABASE_URL points at and
dropped at the end. The schema is made by the migrations, not by
``create_all``, so every test runs against what production gets. After each
test all tables are emptied.
"""
from __future__ import annotations

import contextlib
import os
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey_app import create_app
from survey_app.config import normalise_database_url
from survey_app.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@contextlib.contextmanager
def fresh_database(tmp_dir):
    """Yield the URL of a new, empty database; drop it afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    server = make_url(normalise_database_url(TEST_DATABASE_URL))
    name = f"survey_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_test_config(database_url: str, generated_dir) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "GENERATED_DIR": str(generated_dir),
    }


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
