"""Drafts' answers sealed with the resident's code; random 63-bit response ids

Drafts: the JSON ``answers`` column goes and ``sealed_answers`` (AES-GCM ciphertext under a
key derived from the draft's resume code) takes its place. Answers already saved in drafts
cannot be sealed (the server never keeps the codes), so the drafts in progress at upgrade are
deleted: residents who were half-way start again. Upgrade when few residents are answering.

Responses: ``response.id`` and ``answer.response_id`` become BIGINT (PostgreSQL; an INTEGER
primary key on SQLite is already 64 bits), the id sequence goes, and the responses already
stored get random ids too, so that no stored id follows the order of submission.

Revision ID: e1a2b3c4d5f6
Revises: d7a3f9c2e5b1
Create Date: 2026-12-02
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = 'e1a2b3c4d5f6'
down_revision = 'd7a3f9c2e5b1'
branch_labels = None
depends_on = None

ANSWER_FK = 'fk_answer_response_id_response'


def upgrade():
    op.execute(sa.text("DELETE FROM response_draft"))
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.drop_column('answers')
        batch_op.add_column(sa.Column('sealed_answers', sa.LargeBinary(), nullable=True))

    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        op.execute(sa.text("ALTER TABLE response ALTER COLUMN id DROP DEFAULT"))
        op.execute(sa.text("DROP SEQUENCE IF EXISTS response_id_seq"))
        op.alter_column('answer', 'response_id', type_=sa.BigInteger(), existing_nullable=False)
        op.alter_column('response', 'id', type_=sa.BigInteger(), existing_nullable=False)
    old_ids = connection.execute(sa.text("SELECT id FROM response")).scalars().all()
    new_ids: dict[int, None] = {}
    taken = set(old_ids)  # a new id equal to an old one not yet moved would break the key
    while len(new_ids) < len(old_ids):
        candidate = secrets.randbelow(2**63 - 1) + 1
        if candidate not in taken:
            new_ids[candidate] = None
    _move_ids(connection, list(zip(old_ids, new_ids)))


def downgrade():
    connection = op.get_bind()
    old_ids = connection.execute(sa.text("SELECT id FROM response ORDER BY id")).scalars().all()
    # Sequential ids again (the only kind an INTEGER with a sequence holds), clear of the random ones.
    _move_ids(connection, [(old, -number) for number, old in enumerate(old_ids, start=1)])
    _move_ids(connection, [(-number, number) for number in range(1, len(old_ids) + 1)])
    if connection.dialect.name == 'postgresql':
        op.alter_column('response', 'id', type_=sa.Integer(), existing_nullable=False)
        op.alter_column('answer', 'response_id', type_=sa.Integer(), existing_nullable=False)
        op.execute(sa.text("CREATE SEQUENCE response_id_seq OWNED BY response.id"))
        op.execute(sa.text("ALTER TABLE response ALTER COLUMN id SET DEFAULT nextval('response_id_seq')"))
        op.execute(sa.text("SELECT setval('response_id_seq', (SELECT COALESCE(MAX(id), 0) + 1 FROM response), false)"))

    op.execute(sa.text("DELETE FROM response_draft"))
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.drop_column('sealed_answers')
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=False, server_default='{}'))


def _move_ids(connection, moves: list[tuple[int, int]]) -> None:
    """Give responses new ids (old, new) and their answers with them."""
    if not moves:
        return
    postgresql = connection.dialect.name == 'postgresql'
    # The answers' foreign key would refuse the first of the two UPDATEs: PostgreSQL's is not
    # deferrable (dropped and made again), SQLite's is checked at commit with defer_foreign_keys
    # (which holds only inside a transaction: set after the INSERT, which begins one).
    if postgresql:
        op.drop_constraint(ANSWER_FK, 'answer', type_='foreignkey')
    connection.execute(sa.text("CREATE TEMPORARY TABLE response_id_move (old BIGINT PRIMARY KEY, new BIGINT NOT NULL)"))
    connection.execute(sa.text("INSERT INTO response_id_move (old, new) VALUES (:old, :new)"),
                       [{"old": old, "new": new} for old, new in moves])
    if not postgresql:
        connection.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
    for table, column in (('response', 'id'), ('answer', 'response_id')):
        connection.execute(sa.text(
            f"UPDATE {table} SET {column} = (SELECT new FROM response_id_move WHERE old = {table}.{column}) "
            f"WHERE {column} IN (SELECT old FROM response_id_move)"))
    connection.execute(sa.text("DROP TABLE response_id_move"))
    if postgresql:
        op.create_foreign_key(ANSWER_FK, 'answer', 'response', ['response_id'], ['id'], ondelete='CASCADE')
