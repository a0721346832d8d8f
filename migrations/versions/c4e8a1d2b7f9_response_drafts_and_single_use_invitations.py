"""Response drafts (multi-page, save and resume); invitations keep a used flag and batch, no date

Revision ID: c4e8a1d2b7f9
Revises: 8dd1ff53e1ac
Create Date: 2026-11-23 10:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a1d2b7f9'
down_revision = '8dd1ff53e1ac'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('used', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Carry the old date over as a flag, then forget the date (it could be matched against
    # a response's submission date).
    op.execute("UPDATE invitation SET used = (used_on IS NOT NULL)")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('used_on')

    op.create_table('response_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('furthest', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('saved_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_response_draft_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_response_draft_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_draft')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_response_draft_invitation_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_response_draft_token_hash'))
    )
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_draft_survey_id'), ['survey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_draft_saved_on'), ['saved_on'], unique=False)


def downgrade():
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_draft_saved_on'))
        batch_op.drop_index(batch_op.f('ix_response_draft_survey_id'))
    op.drop_table('response_draft')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('used_on', sa.Date(), nullable=True))
    op.execute("UPDATE invitation SET used_on = CURRENT_DATE WHERE used")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('used')
        batch_op.drop_column('batch')
