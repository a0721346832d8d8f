"""A pooled connection that died while idle is replaced before a request uses it (db_pool.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from survey_app import create_app
from survey_app.extensions import db

from .conftest import make_test_config
from .factories import make_survey


def app_with_idle_ping(database_url, tmp_path, seconds):
    return create_app({**make_test_config(database_url, tmp_path / "generated"),
                       "DB_PING_AFTER_IDLE_SECONDS": seconds,
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})


def kill_the_pooled_connection() -> None:
    """Close the driver connection under the pool's only connection, as a database restart would."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        dead = connection.connection.dbapi_connection
    dead.close()


@pytest.mark.parametrize("idle_ping", [True, False])
def test_a_connection_dead_after_idling_is_replaced_before_use(app, database_url, tmp_path, idle_ping):
    make_survey()
    served = app_with_idle_ping(database_url, tmp_path, 0.0 if idle_ping else 3600.0)
    with served.app_context():
        kill_the_pooled_connection()
        driver_error = db.engine.dialect.loaded_dbapi.Error
    # Each request in an app context of its own, as under gunicorn (its session ends with it).
    client = served.test_client()
    if idle_ping:
        assert client.get("/s/small").status_code == 200
        assert client.get("/s/small").status_code == 200
    else:  # the control: without the ping, the request meets the dead connection
        served.config["PROPAGATE_EXCEPTIONS"] = True
        with pytest.raises((exc.DBAPIError, driver_error)):
            client.get("/s/small")
        served.config["PROPAGATE_EXCEPTIONS"] = False
        # ... and the pool then replaces it: the next request is served.
        assert client.get("/s/small").status_code == 200
    with served.app_context():
        db.engine.dispose()


def pings_in_three_checkouts(served, monkeypatch) -> int:
    with served.app_context():
        pings = []
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
        for _ in range(3):
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        db.engine.dispose()
    return len(pings)


def test_connections_in_steady_use_are_not_pinged(app, database_url, tmp_path, monkeypatch):
    assert pings_in_three_checkouts(app_with_idle_ping(database_url, tmp_path, 3600.0), monkeypatch) == 0
    # Every checkout after the first (a new connection needs none) when any idling counts.
    assert pings_in_three_checkouts(app_with_idle_ping(database_url, tmp_path, 0.0), monkeypatch) == 2


def test_in_one_app_context_the_request_after_a_failed_one_is_served(app, database_url, tmp_path):
    """Tests and scripts may hold one app context around several requests: a request whose
    database work failed must not leave its transaction to the next (create_app's teardown)."""
    make_survey()
    served = app_with_idle_ping(database_url, tmp_path, 3600.0)
    with served.app_context():
        kill_the_pooled_connection()
        client = served.test_client()
        served.config["PROPAGATE_EXCEPTIONS"] = True
        with pytest.raises((exc.DBAPIError, db.engine.dialect.loaded_dbapi.Error)):
            client.get("/s/small")
        served.config["PROPAGATE_EXCEPTIONS"] = False
        assert client.get("/s/small").status_code == 200
        db.engine.dispose()
