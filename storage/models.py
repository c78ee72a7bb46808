"""Database schema (SQLAlchemy 2). Migrations in storage/migrations mirror it."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, MetaData, String, Text,
    TypeDecorator, UniqueConstraint, Index, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Citizen(Base):
    __tablename__ = "citizens"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    postal_address: Mapped[str | None] = mapped_column(String(500))
    # Where status notices go: telegram | vk | email; None = where they write from.
    notify_channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=0, server_default="0")  # as DialogState.version

    identities: Mapped[list[Identity]] = relationship(back_populates="citizen")

    __mapper_args__ = {"version_id_col": version}


class Identity(Base):
    """One way to reach a citizen: a Telegram chat, a VK user, an e-mail address."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str | None] = mapped_column(String(200))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(back_populates="identities")


class Consent(Base):
    """A consent and its withdrawal, with timestamps (152-FZ; R-4.1)."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # personal_data | mailing
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16))  # channel it was given in
    # Every grant and every withdrawal is its own row, never overwritten: a withdrawal row has
    # withdrawal=True and withdrawn_at set (and the grant's time copied). The latest row of a
    # kind is the person's current choice.
    withdrawal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    text_version: Mapped[str | None] = mapped_column(String(16))  # the consent text shown
    address: Mapped[str | None] = mapped_column(String(254))  # the mailing address it covers


class AppealCounter(Base):
    """Last registration number issued per year; numbers are never reused."""

    __tablename__ = "appeal_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Appeal(Base):
    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    source_channel: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(20))
    need: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(String(200))
    # The mandatory channel under 59-FZ: email | post, and the address itself.
    answer_channel: Mapped[str] = mapped_column(String(16))
    answer_address: Mapped[str] = mapped_column(String(500))
    notify_channel: Mapped[str | None] = mapped_column(String(16))
    extra_channel: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    abuse_category: Mapped[str | None] = mapped_column(String(16))
    abuse_fragment: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[date] = mapped_column(Date)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 59-FZ as amended by 547-FZ: "appeal" from an identified citizen, otherwise "message".
    kind: Mapped[str] = mapped_column(String(12), default="message", server_default="message")
    statutory_deadline: Mapped[date | None] = mapped_column(Date)  # registration + 30 days, unshifted
    redirect_by: Mapped[date | None] = mapped_column(Date)  # art. 8 p. 3 and art. 11 p. 2: 7 days
    screen_state: Mapped[str | None] = mapped_column(String(12))  # flagged | confirmed | overridden
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))  # art. 11 p. 5

    citizen: Mapped[Citizen] = relationship()
    events: Mapped[list[AppealEvent]] = relationship(
        back_populates="appeal", order_by="AppealEvent.id"
    )
    files: Mapped[list[StoredFile]] = relationship(back_populates="appeal", order_by="StoredFile.id")


class AppealEvent(Base):
    """Append-only history of an appeal: who, when, what, why."""

    __tablename__ = "appeal_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(16))  # citizen | staff | system
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32))
    status_from: Mapped[str | None] = mapped_column(String(24))
    status_to: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)

    appeal: Mapped[Appeal] = relationship(back_populates="events")


class StoredFile(Base):
    """A file from a citizen; bytes live in the file store, named by their hash."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal: Mapped[Appeal | None] = relationship(back_populates="files")


class DialogState(Base):
    """Where each identity is in a dialog, so a restart resumes mid-wizard."""

    __tablename__ = "dialog_states"
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), primary_key=True)
    step: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped by every write (the ORM checks it too): a worker's cached copy of this row is stale
    # when its version is not the row's (services/dialog_state.py, issue 18).
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # operator | supervisor
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[StaffIdentity]] = relationship(
        back_populates="staff", order_by="StaffIdentity.id", lazy="selectin")

    def user_id(self, channel: str) -> str | None:
        return next((i.user_id for i in self.identities if i.channel == channel), None)


class StaffIdentity(Base):
    """How a staff member is recognised in a channel: one row per (channel, user id)."""

    __tablename__ = "staff_identities"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship(back_populates="identities")


class ProcessedUpdate(Base):
    """Platform updates already handled, so a redelivery is ignored."""

    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChannelCursor(Base):
    """A channel's saved position (for example the VK long-poll ts)."""

    __tablename__ = "channel_cursors"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LinkCode(Base):
    """A one-time code that links another channel's identity to a citizen."""

    __tablename__ = "link_codes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkAttempt(Base):
    """A link code typed by a citizen that did not fit: counted to limit guessing (issue 10)."""

    __tablename__ = "link_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    at: Mapped[datetime]


Index("ix_appeals_citizen_registered", Appeal.citizen_id, Appeal.registered_at)


class OutboxMessage(Base):
    """A message that must reach a person, written in the same transaction as its cause.

    status: pending -> sent | dead (failed for good) ; `task` rows are postal letters for staff.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"), index=True)
    notice: Mapped[str] = mapped_column(String(36), index=True)  # one notice, several channel rows
    kind: Mapped[str] = mapped_column(String(32))  # a notice kind (services/notices.py)
    lane: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # lower goes first
    params: Mapped[dict | None] = mapped_column(JSON)  # the kind's parameters, to render again
    channel: Mapped[str] = mapped_column(String(16))  # telegram | vk | email | post | console
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]  # not sent after this moment (a reminder after the visit began)
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


# The sender's claim, one channel at a time: due pending rows in lane order (a partial index, so
# sent rows, however many, cost the claim nothing; EXPLAIN-checked in tests/storage/test_outbox_plan.py).
Index("ix_outbox_claim", OutboxMessage.channel, OutboxMessage.lane, OutboxMessage.not_before, OutboxMessage.id,
      postgresql_where=OutboxMessage.status == "pending", sqlite_where=OutboxMessage.status == "pending")
Index("ix_outbox_status", OutboxMessage.status, OutboxMessage.id)  # letters, failed rows, depth
# One chat's rows: whose chat a sender holds (the claim), when its last staff announcement was due.
Index("ix_outbox_address", OutboxMessage.channel, OutboxMessage.address, OutboxMessage.not_before)


class Rating(Base):
    """A citizen's rating of a final answer or a visit (R-3.9, R-6.8)."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("appeal_id", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Visits (R-6.x) ---


class VisitSlot(Base):
    """A time at a reception desk (or with a staff member) when one citizen can be received (R-6.1)."""

    __tablename__ = "visit_slots"
    __table_args__ = (UniqueConstraint("desk", "starts_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    desk: Mapped[str] = mapped_column(String(64))  # a desk name, or "staff:<id>"
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """A citizen's booking of one slot, its reminder and its rating (R-6.1–R-6.8).

    status: booked -> attended | no_show | cancelled. The partial unique index below lets
    at most one visit that is not cancelled hold a slot: the database refuses a double booking.
    """

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("visit_slots.id"))
    topic: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="booked")
    starts_at: Mapped[datetime] = mapped_column(index=True)  # copied from the slot
    ends_at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(16))  # where the reminder goes
    extra_channel: Mapped[str | None] = mapped_column(String(16))  # its duplicate
    remind: Mapped[str] = mapped_column(String(8), default="none")  # day | 2h | none
    reminder_notice: Mapped[str | None] = mapped_column(String(36))  # the outbox notice to cancel
    revision: Mapped[int] = mapped_column(Integer, default=0)  # .ics SEQUENCE, +1 per reschedule
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(16))  # citizen | office
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    marked_at: Mapped[datetime | None]
    rating_notice: Mapped[str | None] = mapped_column(String(36))  # set once the request is queued
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]

    slot: Mapped[VisitSlot] = relationship()


Index("uq_visits_active_slot", Visit.slot_id, unique=True,
      sqlite_where=Visit.status != "cancelled", postgresql_where=Visit.status != "cancelled")

import storage.consult_models  # noqa: E402,F401  (the consultation line's tables)
import storage.appeal_rules_models  # noqa: E402,F401  (identification, 59-FZ rules)
import storage.mailing_models  # noqa: E402,F401  (mailings)
import storage.personal_data_models  # noqa: E402,F401  (152-FZ records)
import storage.report_indexes  # noqa: E402,F401  (indexes for the reports)
import storage.inbox_models  # noqa: E402,F401  (the durable inbox of raw updates)
