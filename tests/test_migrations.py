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


# One of each change to each table the resident pages show (binds: the survey's id).
QUESTIONNAIRE_CHANGES = [
    ("survey", "UPDATE survey SET title = 'Renamed' WHERE id = :survey"),
    ("page", "INSERT INTO page (survey_id, position, title, translations) VALUES (:survey, 9, 'Added', '{}')"),
    ("page", "UPDATE page SET title = 'Renamed' WHERE survey_id = :survey AND position = 9"),
    ("question", "INSERT INTO question (survey_id, page_id, position, code, type, text, help_text, required, "
                 "config, reverse_coded, translations) SELECT :survey, id, 9, 'added', 'single_choice', 'Added', "
                 "'', false, '{}', false, '{}' FROM page WHERE survey_id = :survey AND position = 9"),
    ("question", "UPDATE question SET text = 'Renamed' WHERE survey_id = :survey AND code = 'added'"),
    ("answer_option", "INSERT INTO answer_option (question_id, position, code, label, translations) "
                      "SELECT id, 1, 1, 'Added', '{}' FROM question WHERE survey_id = :survey AND code = 'added'"),
    ("answer_option", "UPDATE answer_option SET label = 'Renamed' WHERE label = 'Added'"),
    ("answer_option", "DELETE FROM answer_option WHERE label = 'Renamed'"),
    ("question", "DELETE FROM question WHERE survey_id = :survey AND code = 'added'"),
    ("page", "DELETE FROM page WHERE survey_id = :survey AND position = 9"),
]


def test_every_insert_update_and_delete_of_the_questionnaire_moves_the_survey_revision(app):
    """The database moves survey.revision (migration b5e1c7d9a3f2's triggers), so that the resident
    pages' cache is fresh however a row changed. On SQLite a later migration that rebuilds one of
    these tables (batch mode) drops its triggers with the old table, and must create them again."""
    from sqlalchemy import text

    from .factories import make_survey

    survey_id = make_survey().id
    unmoved = []
    for table, statement in QUESTIONNAIRE_CHANGES:
        with db.engine.begin() as connection:
            before = connection.scalar(text("SELECT revision FROM survey WHERE id = :survey"), {"survey": survey_id})
            assert connection.execute(text(statement), {"survey": survey_id}).rowcount == 1, statement
            after = connection.scalar(text("SELECT revision FROM survey WHERE id = :survey"), {"survey": survey_id})
        if after != before + 1:
            unmoved.append((table, statement.split()[0], before, after))
    assert unmoved == [], f"these changes did not move the revision by one (a table's triggers lost?): {unmoved}"
