"""The outbox claim index: per channel, lane order, pending rows only

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_claim', ['channel', 'lane', 'not_before', 'id'], unique=False,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_outbox_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_outbox_address', ['channel', 'address', 'not_before'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_address')
        batch_op.drop_index('ix_outbox_status')
        batch_op.drop_index('ix_outbox_claim')
        batch_op.create_index('ix_outbox_due', ['status', 'lane', 'not_before', 'id'], unique=False)
