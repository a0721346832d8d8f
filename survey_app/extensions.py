"""Flask extensions, created unbound and bound to an app in ``create_app``."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3

from flask import current_app, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that migrations can alter them on every backend
# (SQLite's batch mode needs names to find a constraint again).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay loaded after a commit: a view that commits and then builds a redirect from the
# survey it already holds would otherwise reload the survey, its pages, questions and options
# (measured: 4 of the 11 queries of starting a response).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
# Rotate the session identifier on a change of network identity: "strong" logs the user out.
login_manager.session_protection = "strong"




def anonymous_client_key() -> str:
    """Who a rate limit counts, without keeping an IP address anywhere.

    The counter is keyed by an HMAC of the address with the app's secret key and today's
    date: the same sender is counted together for the day, but the key cannot be turned
    back into the address without the secret, and it changes every day. Counters live in
    memory (or Redis when RATELIMIT_STORAGE_URI says so) only for the length of their
    window and never reach the database or the logs.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"{dt.date.today().isoformat()}|{request.remote_addr or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite leaves foreign keys off by default; WAL lets readers run beside a writer;
    secure_delete overwrites a deleted row's bytes with zeros (a submitted draft's row would
    otherwise stay readable in the file's free space until reused)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
