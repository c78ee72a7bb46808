"""link attempts: failed link codes, to limit guessing (issue 10 item 7)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_link_attempts_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_attempts'))
    )
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_attempts_citizen_id'), ['citizen_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_attempts_citizen_id'))
    op.drop_table('link_attempts')
