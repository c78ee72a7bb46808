"""visits: reception slots and citizens' bookings (R-6.1–R-6.8)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status <> 'cancelled'")


def upgrade() -> None:
    op.create_table('visit_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_visit_slots_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_slots')),
    sa.UniqueConstraint('desk', 'starts_at', name=op.f('uq_visit_slots_desk'))
    )
    with op.batch_alter_table('visit_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_slots_starts_at'), ['starts_at'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('starts_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('extra_channel', sa.String(length=16), nullable=True),
    sa.Column('remind', sa.String(length=8), nullable=False),
    sa.Column('reminder_notice', sa.String(length=36), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('booked_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=16), nullable=True),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.Column('marked_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating_notice', sa.String(length=36), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rated_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_visits_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['marked_by'], ['staff.id'], name=op.f('fk_visits_marked_by_staff')),
    sa.ForeignKeyConstraint(['slot_id'], ['visit_slots.id'], name=op.f('fk_visits_slot_id_visit_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_ends_at'), ['ends_at'], unique=False)
        # At most one visit that is not cancelled per slot: the database refuses a double booking.
        batch_op.create_index('uq_visits_active_slot', ['slot_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('uq_visits_active_slot')
        batch_op.drop_index(batch_op.f('ix_visits_ends_at'))
        batch_op.drop_index(batch_op.f('ix_visits_starts_at'))
        batch_op.drop_index(batch_op.f('ix_visits_citizen_id'))

    op.drop_table('visits')
    with op.batch_alter_table('visit_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_slots_starts_at'))

    op.drop_table('visit_slots')
