"""Written answers masked and coded: written_mask, theme, coding, written_quote

What residents wrote is masked (names, phone numbers, addresses... as spans of the original,
which stays in answer.text), coded with a codebook of themes per written question, by a main
coder, a blind second coder on a sample, and a settled final coding where they disagreed. Rows
are keyed by the answer and deleted with it; no time is kept next to an answer. Quotes are
excerpts of masked answers a person approved for the published page.

Revision ID: e17525d6af1e
Revises: b5e1c7d9a3f2
Create Date: 2026-12-02 23:41:36.308326

"""
from alembic import op
import sqlalchemy as sa


revision = 'e17525d6af1e'
down_revision = 'b5e1c7d9a3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_theme_question_id_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme')),
    sa.UniqueConstraint('question_id', 'label', name='uq_theme_label'),
    sa.UniqueConstraint('question_id', 'number', name='uq_theme_number')
    )
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_question_id'), ['question_id'], unique=False)

    op.create_table('coding',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=5), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=True),
    sa.Column('themes', sa.JSON(), nullable=True),
    sa.Column('suggested', sa.JSON(), nullable=True),
    sa.CheckConstraint("role IN ('main', 'check', 'final')", name=op.f('ck_coding_role')),
    sa.ForeignKeyConstraint(['coder_id'], ['staff_user.id'], name=op.f('fk_coding_coder_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id', 'response_id'], ['answer.question_id', 'answer.response_id'], name=op.f('fk_coding_question_id_answer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'response_id', 'role', name='pk_coding')
    )
    op.create_table('written_mask',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('spans', sa.JSON(), nullable=False),
    sa.Column('rules', sa.Integer(), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['question_id', 'response_id'], ['answer.question_id', 'answer.response_id'], name=op.f('fk_written_mask_question_id_answer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'response_id', name='pk_written_mask')
    )
    op.create_table('written_quote',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['staff_user.id'], name=op.f('fk_written_quote_approved_by_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id', 'response_id'], ['answer.question_id', 'answer.response_id'], name=op.f('fk_written_quote_question_id_answer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'response_id', name='pk_written_quote')
    )


def downgrade():
    op.drop_table('written_quote')
    op.drop_table('written_mask')
    op.drop_table('coding')
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_question_id'))

    op.drop_table('theme')
