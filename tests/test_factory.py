"""The app factory and configuration precedence."""
import pytest

from survey_app import create_app
from survey_app.config import (
    PUBLISHED_KEYS,
    SECRET_KEY_FILE,
    apply_environment,
    instance_secret_key,
    normalise_database_url,
)


def test_test_config_is_used(app):
    assert app.testing
    assert app.config["SECRET_KEY"].startswith("test-secret")


def test_defaults_without_config(tmp_path, monkeypatch):
    for variable in ("SECRET_KEY", "DATABASE_URL", "SURVEY_ENV", "GENERATED_DIR"):
        monkeypatch.delenv(variable, raising=False)
    app = create_app()
    assert not app.testing
    assert app.config["SURVEY_ENV"] == "development"
    # No fixed key: one generated for this site, kept in its instance folder.
    with open(f"{app.instance_path}/{SECRET_KEY_FILE}") as handle:
        assert app.config["SECRET_KEY"] == handle.read().strip()
    assert len(app.config["SECRET_KEY"]) == 64 and app.config["SECRET_KEY"] not in PUBLISHED_KEYS
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # the same on the next start
    # The embedded default: a SQLite file inside the instance folder.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/survey.sqlite"
    assert app.config["GENERATED_DIR"].startswith(app.instance_path)
    assert app.config["MIN_CELL_SIZE"] == 10


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/survey")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("GENERATED_DIR", "/srv/generated")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/survey"
    assert app.config["SECRET_KEY"] == "x" * 40
    assert app.config["GENERATED_DIR"] == "/srv/generated"


def test_instance_config_then_environment(tmp_path):
    config = {"SECRET_KEY": "from-instance"}
    # The environment wins over the instance file; empty variables are ignored.
    apply_environment(config, {"SECRET_KEY": "from-env", "DATABASE_URL": ""})
    assert config == {"SECRET_KEY": "from-env"}


@pytest.mark.parametrize("url, expected", [
    ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
    ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
    ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
    ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
])
def test_database_url_normalised(url, expected):
    assert normalise_database_url(url) == expected


def test_a_generated_key_is_random_private_and_made_once(tmp_path):
    import os
    import stat
    import threading

    keys = []
    threads = [threading.Thread(target=lambda: keys.append(instance_secret_key(str(tmp_path))))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64  # processes starting together agree
    mode = stat.S_IMODE(os.stat(tmp_path / SECRET_KEY_FILE).st_mode)
    assert mode == 0o600
    assert sorted(os.listdir(tmp_path)) == [SECRET_KEY_FILE]  # no temporary file left
    other = tmp_path / "other"
    assert instance_secret_key(str(other)) != keys[0]


@pytest.mark.parametrize("key", ["dev-only-not-secret", "too-short"])
def test_a_published_or_short_key_is_refused_in_development_too(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("value, expected", [("Production", "production"), (" PRODUCTION ", "production"),
                                             ("development", "development"), ("Development", "development")])
def test_survey_env_is_read_in_any_case(value, expected):
    app = create_app({"SURVEY_ENV": value, "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "PUBLIC_BASE_URL": "https://surveys.example.gov"})
    assert app.config["SURVEY_ENV"] == expected


@pytest.mark.parametrize("value", ["prod", "staging", "produktion"])
def test_an_unknown_survey_env_is_refused(value):
    with pytest.raises(RuntimeError, match="SURVEY_ENV"):
        create_app({"SURVEY_ENV": value, "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("key", [None, *PUBLISHED_KEYS, "too-short"])
def test_production_refuses_unsafe_secret_key(key, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"SURVEY_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "PUBLIC_BASE_URL": "https://surveys.example.gov"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_production_starts_with_real_secret_key():
    app = create_app({"SURVEY_ENV": "production", "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "PUBLIC_BASE_URL": "https://surveys.example.gov/"})
    assert app.config["SURVEY_ENV"] == "production"
    assert app.config["PUBLIC_BASE_URL"] == "https://surveys.example.gov"


def test_production_needs_the_public_address():
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
        create_app({"SURVEY_ENV": "production", "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("value", ["surveys.example.gov", "ftp://surveys.example.gov", "https://x.gov/path",
                                   "https://x.gov/?a=1", "https://user@x.gov"])
def test_a_public_address_that_is_not_scheme_host_and_port_is_refused(value):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app({"PUBLIC_BASE_URL": value, "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_the_models_load_alone_and_an_app_keeps_the_revision_in_step(app):
    """The models load on their own (nothing they import imports them back), and in a fresh
    interpreter a change to a survey moves Survey.revision (the database's triggers do it, see
    the migration b5e1c7d9a3f2; no Python hook has to have been imported)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "import survey_app.models\n"
        "from survey_app import create_app\n"
        "from survey_app.extensions import db\n"
        "from survey_app.models import Survey\n"
        "with create_app(json.loads(sys.argv[1])).app_context():\n"
        "    survey = Survey(slug='fresh-process', title='Before')\n"
        "    db.session.add(survey)\n"
        "    db.session.commit()\n"
        "    survey.title = 'After'\n"
        "    db.session.commit()\n"
        "    print(db.session.scalar(db.select(Survey.revision).where(Survey.id == survey.id)))\n"
    )
    config = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "GENERATED_DIR")}
    result = subprocess.run([sys.executable, "-c", code, json.dumps(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1"]
