"""Survey revision: a number that goes up with every change to a survey's questionnaire

Revision ID: d7a3f9c2e5b1
Revises: c4e8a1d2b7f9
Create Date: 2026-11-23 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a3f9c2e5b1'
down_revision = 'c4e8a1d2b7f9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('revision')
