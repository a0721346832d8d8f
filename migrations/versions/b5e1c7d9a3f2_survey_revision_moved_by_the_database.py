"""Survey revision moved by the database: triggers add one to survey.revision whenever a row of
the survey, its pages, questions or answer options is inserted, updated or deleted

The resident pages keep each survey loaded per process under its revision
(survey_app/respond/survey_cache.py). The number used to be moved by a hook on the ORM's
flush, which a bulk update(), a raw SQL statement or a data migration went around without
anyone noticing. Triggers move it however a row is changed.

On SQLite, a migration that rebuilds one of these tables (batch mode's copy and rename) drops
its triggers with the old table: create them again in that migration
(tests/test_migrations.py fails until it does).

Revision ID: b5e1c7d9a3f2
Revises: a7c9e2f4b6d8
Create Date: 2027-01-12 10:00:00

"""
from alembic import op


revision = 'b5e1c7d9a3f2'
down_revision = 'a7c9e2f4b6d8'
branch_labels = None
depends_on = None

# (table, how a row of it names its survey, by the row as OLD or NEW)
PARTS = (
    ("page", "{row}.survey_id"),
    ("question", "{row}.survey_id"),
    ("answer_option", "(SELECT survey_id FROM question WHERE id = {row}.question_id)"),
)

# Every UPDATE of a survey row moves its revision by exactly one, whatever it sets (also when it
# sets the revision itself), so that two editors saving at once both count and a number once
# used never comes back.
SQLITE = [
    """CREATE TRIGGER survey_revision_on_update AFTER UPDATE ON survey
       WHEN NEW.revision IS NOT OLD.revision + 1
       BEGIN UPDATE survey SET revision = OLD.revision + 1 WHERE id = NEW.id; END""",
]
for table, survey in PARTS:
    SQLITE += [
        f"""CREATE TRIGGER {table}_moves_survey_revision_on_insert AFTER INSERT ON {table}
            BEGIN UPDATE survey SET revision = revision + 1 WHERE id = {survey.format(row='NEW')}; END""",
        f"""CREATE TRIGGER {table}_moves_survey_revision_on_update AFTER UPDATE ON {table}
            BEGIN UPDATE survey SET revision = revision + 1
                  WHERE id IN ({survey.format(row='OLD')}, {survey.format(row='NEW')}); END""",
        f"""CREATE TRIGGER {table}_moves_survey_revision_on_delete AFTER DELETE ON {table}
            BEGIN UPDATE survey SET revision = revision + 1 WHERE id = {survey.format(row='OLD')}; END""",
    ]

# In PL/pgSQL, OLD is NULL on INSERT and NEW on DELETE: the survey they name is then NULL and
# matches no row.
POSTGRESQL = [
    """CREATE FUNCTION survey_revision_next() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$""",
    """CREATE TRIGGER survey_revision_on_update BEFORE UPDATE ON survey
       FOR EACH ROW EXECUTE FUNCTION survey_revision_next()""",
]
for table, survey in PARTS:
    POSTGRESQL += [
        f"""CREATE FUNCTION {table}_moves_survey_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE survey SET revision = revision + 1
                WHERE id IN ({survey.format(row='OLD')}, {survey.format(row='NEW')});
                RETURN NULL;
            END $$""",
        f"""CREATE TRIGGER {table}_moves_survey_revision AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_moves_survey_revision()""",
    ]


def upgrade():
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER survey_revision_on_update ON survey")
        op.execute("DROP FUNCTION survey_revision_next()")
        for table, _survey in PARTS:
            op.execute(f"DROP TRIGGER {table}_moves_survey_revision ON {table}")
            op.execute(f"DROP FUNCTION {table}_moves_survey_revision()")
    else:
        op.execute("DROP TRIGGER survey_revision_on_update")
        for table, _survey in PARTS:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_moves_survey_revision_on_{event}")
