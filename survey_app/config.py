"""Configuration: defaults in code, then ``instance/config.py``, then the environment.

The order matches Flask's tutorial app: code defaults are safe for development,
the instance folder holds a site's own settings (never tracked), and
environment variables win so that a container or a CI job can set them
without writing files.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from urllib.parse import urlsplit

MIN_SECRET_KEY_LENGTH = 32
# Where a site without a configured SECRET_KEY keeps the one generated for it (instance/).
SECRET_KEY_FILE = "secret_key"
# A key this app once shipped as its development default: public, so never accepted.
PUBLISHED_KEYS = ("dev-only-not-secret",)
SURVEY_ENVIRONMENTS = ("development", "production")

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
    "TWO_FACTOR_REQUIRED": "TWO_FACTOR_REQUIRED",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "JOB_QUEUE_URL": "JOB_QUEUE_URL",
    "JOB_STALLED_AFTER_SECONDS": "JOB_STALLED_AFTER_SECONDS",
}


def default_config(instance_path: str) -> dict:
    return {
        # Signs session cookies and CSRF tokens. Not set: production refuses to start; elsewhere a
        # random key is generated into instance/secret_key on first run (settle_secret_key).
        "SECRET_KEY": None,
        # "development" or "production" (any case); production refuses an unsafe SECRET_KEY.
        "SURVEY_ENV": "development",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "survey.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A pooled connection unused for this long is tested before use (db_pool.py).
        "DB_PING_AFTER_IDLE_SECONDS": 10.0,
        # Analysis output (tables as JSON, charts) lives here, one folder per survey.
        "GENERATED_DIR": os.path.join(instance_path, "generated"),
        # `flask seed-demo` on a site with no staff account writes its demo admin's sign-in here
        # (readable by its owner only; never in production).
        "DEMO_ADMIN_FILE": os.path.join(instance_path, "demo-admin.txt"),
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
        # The site's public address (scheme, host and port): every absolute link the app writes
        # (resume links, invitation sheets, canonical links) starts with it, never with the Host
        # a request claims. Required in production; `flask run`'s address elsewhere.
        "PUBLIC_BASE_URL": None,
        # Two-factor sign-in for staff (two_factor.py): "none" (each may turn it on), "admins" or "all".
        "TWO_FACTOR_REQUIRED": "none",
        # Background jobs (jobs.py, run by `flask jobs worker`): the queue that wakes the worker,
        # a SQLite file here (one server) or redis://host:port/db (several).
        "JOB_QUEUE_URL": "sqlite:///" + os.path.join(instance_path, "jobs.sqlite"),
        # A running job with no sign of life for this long is taken over by another worker; a
        # queued one that no worker picked up is queued again (and the staff page says so).
        "JOB_STALLED_AFTER_SECONDS": 300,
        # Jobs one worker process runs at once (threads).
        "JOB_WORKERS": 2,
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


def settle_environment(config: dict) -> None:
    """SURVEY_ENV (and TWO_FACTOR_REQUIRED) read in any case ('Production' is production); an
    unknown value is refused, since a typo would otherwise quietly mean development."""
    value = str(config.get("SURVEY_ENV") or "development").strip().lower()
    if value not in SURVEY_ENVIRONMENTS:
        raise RuntimeError(f"SURVEY_ENV is {config.get('SURVEY_ENV')!r}; use one of: {', '.join(SURVEY_ENVIRONMENTS)}.")
    config["SURVEY_ENV"] = value
    required = str(config.get("TWO_FACTOR_REQUIRED") or "none").strip().lower()
    if required not in ("none", "admins", "all"):
        raise RuntimeError(f"TWO_FACTOR_REQUIRED is {config.get('TWO_FACTOR_REQUIRED')!r}; use none, admins or all.")
    config["TWO_FACTOR_REQUIRED"] = required


DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def settle_public_base_url(config: dict) -> None:
    """PUBLIC_BASE_URL as scheme://host[:port]; production refuses to start without it."""
    value = (config.get("PUBLIC_BASE_URL") or "").strip()
    if not value:
        if config["SURVEY_ENV"] == "production":
            raise RuntimeError("PUBLIC_BASE_URL is not set: in production, set it to the site's public address, "
                               "e.g. https://surveys.example.gov (links in letters and resume links use it).")
        value = DEVELOPMENT_BASE_URL
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query
            or parts.fragment or parts.username):
        raise RuntimeError(f"PUBLIC_BASE_URL is {value!r}; give the scheme, host and port only, "
                           "e.g. https://surveys.example.gov")
    config["PUBLIC_BASE_URL"] = f"{parts.scheme}://{parts.netloc}"


def settle_secret_key(config: dict, instance_path: str) -> None:
    """Refuse a guessable key; without one, production refuses to start and any other site
    uses a random key generated once into instance/secret_key (readable by its owner only)."""
    key = config.get("SECRET_KEY")
    if not key and config["SURVEY_ENV"] != "production":
        key = config["SECRET_KEY"] = instance_secret_key(instance_path)
    if not key or key in PUBLISHED_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "SECRET_KEY is missing, a published example, or shorter than "
            f"{MIN_SECRET_KEY_LENGTH} characters. Set SECRET_KEY in the environment or instance/config.py "
            "to a long random string, e.g. python -c \"import secrets; print(secrets.token_hex(32))\""
            + ("" if config["SURVEY_ENV"] == "production" else
               f", or remove it to have one generated into {os.path.join(instance_path, SECRET_KEY_FILE)}.")
        )


def instance_secret_key(instance_path: str) -> str:
    """The site's generated key: read from instance/secret_key, made there on first use.

    Several processes may start at once (a CLI command beside the server): the key is written
    to a temporary file and linked into place, which fails if another got there first, and
    then everyone reads the winner's key.
    """
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(instance_path, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()
