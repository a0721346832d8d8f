"""Database connections that died while idle are replaced before a request sees them.

SQLAlchemy's ``pool_pre_ping`` tests a connection with a round trip on *every* checkout,
one extra round trip per request: 9.5% of a worker's samples under bench/load.py on
PostgreSQL. A connection that was in use a moment ago is not the one a database restart or
an idle-timeout firewall has killed, so this tests only connections that sat in the pool
longer than DB_PING_AFTER_IDLE_SECONDS, with the dialect's own ping. A dead one is reported
to the pool as a disconnect, and the pool replaces it (and every other connection as old)
before handing one out. Under load, where connections never idle, nothing is pinged; a
restart then fails the requests that were already running, and the pool heals at once.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

CHECKED_IN = "survey_app.checked_in_at"


def ping_connections_after_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine.pool, "checkin")
    def remember_checkin(dbapi_connection, connection_record):
        connection_record.info[CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def ping_if_idle(dbapi_connection, connection_record, connection_proxy):
        checked_in = connection_record.info.get(CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < idle_seconds:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the driver's own error: this connection is gone
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error
        if alive is False:
            raise exc.DisconnectionError("idle connection failed its ping")
