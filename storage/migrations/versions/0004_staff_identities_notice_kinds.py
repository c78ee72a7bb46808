"""staff identities as (channel, user id) rows; outbox lanes and notice parameters

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_identities_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_identities')),
    sa.UniqueConstraint('channel', 'user_id', name=op.f('uq_staff_identities_channel'))
    )
    with op.batch_alter_table('staff_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_identities_staff_id'), ['staff_id'], unique=False)
    # Existing staff keep their Telegram and VK ids.
    for channel, column in (("telegram", "telegram_id"), ("vk", "vk_id")):
        op.execute(f"INSERT INTO staff_identities (staff_id, channel, user_id) "
                   f"SELECT id, '{channel}', {column} FROM staff WHERE {column} IS NOT NULL")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint('uq_staff_telegram_id', type_='unique')
        batch_op.drop_constraint('uq_staff_vk_id', type_='unique')
        batch_op.drop_column('telegram_id')
        batch_op.drop_column('vk_id')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=24), type_=sa.String(length=32),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('lane', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'lane', 'not_before', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'not_before'], unique=False)
        batch_op.drop_column('params')
        batch_op.drop_column('lane')
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=sa.String(length=24),
                              existing_nullable=False)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('vk_id', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint('uq_staff_telegram_id', ['telegram_id'])
        batch_op.create_unique_constraint('uq_staff_vk_id', ['vk_id'])
    for channel, column in (("telegram", "telegram_id"), ("vk", "vk_id")):
        op.execute(f"UPDATE staff SET {column} = (SELECT min(user_id) FROM staff_identities s "
                   f"WHERE s.staff_id = staff.id AND s.channel = '{channel}')")
    with op.batch_alter_table('staff_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_identities_staff_id'))
    op.drop_table('staff_identities')
