"""Migrations build the schema the models describe, on an empty database."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from survey_app import create_app
from survey_app.extensions import db

from .conftest import fresh_database, make_test_config

EXPECTED_TABLES = {"survey_series", "survey", "page", "question", "answer_option", "response", "answer",
                   "invitation", "population_margin", "snapshot"}


def test_upgrade_creates_schema_matching_models_and_downgrade_removes_it(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app(make_test_config(url, tmp_path / "generated"))
        with app.app_context():
            assert inspect(db.engine).get_table_names() == []
            upgrade()
            assert EXPECTED_TABLES <= set(inspect(db.engine).get_table_names())
            with db.engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == [], differences
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_migrations_have_a_single_head(app):
    directory = app.extensions["migrate"].directory
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_answer_table_is_narrow_and_typed(app):
    """Answers stay loadable in bulk: integer keys and codes, a float, and text apart."""
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("answer")}
    assert set(columns) == {"response_id", "question_id", "value", "number", "text"}
    assert "INT" in str(columns["value"]["type"]).upper()
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("answer")}
    assert "ix_answer_response_id" in indexes
    assert inspect(db.engine).get_pk_constraint("answer")["constrained_columns"] == ["question_id", "response_id"]


def test_response_table_stores_nothing_identifying(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("response")}
    assert columns == {"id", "survey_id", "submitted_on", "mode", "language"}
    assert not {"ip", "ip_address", "user_agent", "submitted_at", "email", "name"} & columns
