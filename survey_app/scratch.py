"""Throwaway databases for the test suite and the benchmarks."""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .config import normalise_database_url


@contextlib.contextmanager
def scratch_database(server_url: str | None, folder: Path, prefix: str = "survey_scratch"):
    """Yield the URL of a new, empty database and drop it afterwards.

    Without ``server_url``: a new SQLite file in ``folder``. With a PostgreSQL
    URL: a new database on that server (the named database is only used to
    connect), so existing data is never touched.
    """
    if not server_url:
        yield f"sqlite:///{Path(folder) / f'{prefix}-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    server = make_url(normalise_database_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
