"""The app factory and configuration precedence."""
import pytest

from survey_app import create_app
from survey_app.config import DEV_SECRET_KEY, apply_environment, normalise_database_url


def test_test_config_is_used(app):
    assert app.testing
    assert app.config["SECRET_KEY"].startswith("test-secret")


def test_defaults_without_config(tmp_path, monkeypatch):
    for variable in ("SECRET_KEY", "DATABASE_URL", "SURVEY_ENV", "GENERATED_DIR"):
        monkeypatch.delenv(variable, raising=False)
    app = create_app()
    assert not app.testing
    assert app.config["SURVEY_ENV"] == "development"
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY
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


@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY, "too-short"])
def test_production_refuses_unsafe_secret_key(key, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"SURVEY_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_production_starts_with_real_secret_key():
    app = create_app({"SURVEY_ENV": "production", "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SURVEY_ENV"] == "production"


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
