"""Configuration: defaults in code, then ``instance/config.py``, then the environment.

The order matches Flask's tutorial app: code defaults are safe for development,
the instance folder holds a site's own settings (never tracked), and
environment variables win so that a container or a CI job can set them
without writing files.
"""
from __future__ import annotations

import os

# The placeholder key. Any app running with it in production is refused (see
# ``check_production_config``); in development it only signs the session cookie
# of a local demo.
DEV_SECRET_KEY = "dev-only-not-secret"
MIN_SECRET_KEY_LENGTH = 32

# Environment variables read on top of the instance config, with the config key
# each one sets.
ENVIRONMENT_OVERRIDES = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SURVEY_ENV": "SURVEY_ENV",
    "GENERATED_DIR": "GENERATED_DIR",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    # Keeps this site's counters apart when several sites (or tests) share one Redis.
    "RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "START_RATE_LIMIT": "START_RATE_LIMIT",
    "PAGE_RATE_LIMIT": "PAGE_RATE_LIMIT",
    "CODE_RATE_LIMIT": "CODE_RATE_LIMIT",
}


def default_config(instance_path: str) -> dict:
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        # "development" or "production"; production refuses an unsafe SECRET_KEY.
        "SURVEY_ENV": "development",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "survey.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A pooled connection unused for this long is tested before use (db_pool.py).
        "DB_PING_AFTER_IDLE_SECONDS": 10.0,
        # Analysis output (tables as JSON, charts) lives here, one folder per survey.
        "GENERATED_DIR": os.path.join(instance_path, "generated"),
        # Fewest respondents for which any result is shown (disclosure control).
        "MIN_CELL_SIZE": 10,
        # A whole survey form is small; this bounds what a POST can make us parse.
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session cookie
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Rate limits (rate_limits.py; `limits` syntax: "30 per hour", "5 per minute; 30 per hour").
        # Counters are keyed without IP addresses (extensions.anonymous_client_key);
        # memory:// suits one server, redis://... several.
        "RATELIMIT_STORAGE_URI": "memory://",
        # Starting a response (one per submission, since a draft submits once).
        "START_RATE_LIMIT": "30 per hour",
        # Saving a page: generous, against hammering only.
        "PAGE_RATE_LIMIT": "600 per hour",
        # Typing an invitation or resume code: against guessing.
        "CODE_RATE_LIMIT": "20 per hour",
        # A survey's welcome page may be served from this server's copy of the survey for this
        # long after the copy was last checked against the database, without asking again
        # (respond/routes.py survey). Every write (Start, a page posted) checks at once.
        "RESIDENT_PAGE_MAX_AGE_SECONDS": 1.0,
        # Cookies the resident's browser keeps: the resume code, and that it has answered.
        "RESIDENT_COOKIE_SECURE": False,
        # Reverse proxies in front of the app whose X-Forwarded-* headers to trust (1 behind nginx).
        "TRUSTED_PROXIES": 0,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, the driver we install.

    Hosting platforms hand out ``postgres://`` (which SQLAlchemy no longer
    accepts) and people write plain ``postgresql://`` (which SQLAlchemy maps
    to psycopg2, not installed). Both mean the same server.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def apply_environment(config: dict, environ=os.environ) -> None:
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        value = environ.get(variable)
        if value:
            config[key] = value


def check_production_config(config: dict) -> None:
    """Refuse to run in production with a guessable or missing secret key."""
    if config.get("SURVEY_ENV") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "SURVEY_ENV is 'production' but SECRET_KEY is missing, the development "
            f"placeholder, or shorter than {MIN_SECRET_KEY_LENGTH} characters. Set SECRET_KEY "
            "in the environment or instance/config.py to a long random string, e.g. "
            "python -c \"import secrets; print(secrets.token_hex(32))\""
        )
