"""Answer keyed by (question_id, response_id); clustered on it in SQLite (WITHOUT ROWID)

The analysis reads answers question by question. With the key in that order,
each question's answers are one sequential run in SQLite's clustered table
and a prefix of the key's index in PostgreSQL, so the separate question index
goes; a response index takes its place for per-response access and cascades.

Revision ID: b3c1d2e4f5a6
Revises: 5678dc2d1478
Create Date: 2026-11-23 03:30:00

"""
from alembic import op

revision = "b3c1d2e4f5a6"
down_revision = "5678dc2d1478"
branch_labels = None
depends_on = None


def _rebuild(key: list[str], with_rowid: bool, add_index: str, add_columns: list[str], drop_index: str):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot change a primary key in place: batch mode copies the table.
        with op.batch_alter_table("answer", recreate="always",
                                  table_kwargs={"sqlite_with_rowid": with_rowid}) as batch_op:
            batch_op.drop_index(drop_index)
            batch_op.drop_constraint("pk_answer", type_="primary")
            batch_op.create_primary_key("pk_answer", key)
            batch_op.create_index(add_index, add_columns, unique=False)
    else:
        op.drop_index(drop_index, table_name="answer")
        op.drop_constraint("pk_answer", "answer", type_="primary")
        op.create_primary_key("pk_answer", "answer", key)
        op.create_index(add_index, "answer", add_columns, unique=False)


def upgrade():
    _rebuild(["question_id", "response_id"], with_rowid=False, add_index="ix_answer_response_id",
             add_columns=["response_id"], drop_index="ix_answer_question_id")


def downgrade():
    _rebuild(["response_id", "question_id"], with_rowid=True, add_index="ix_answer_question_id",
             add_columns=["question_id"], drop_index="ix_answer_response_id")
