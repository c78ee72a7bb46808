"""The durable inbox: raw platform updates kept before they are acknowledged to the platform,
so a crash or a restart never loses one (at-least-once intake; the processed-update record
makes the effects exactly-once)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class InboxUpdate(Base):
    """One update received and not yet finished. `replies` are the engine's replies, written in
    the transaction of the update's effects and kept until they are shown (or handed to the
    outbox), so a crash between the commit and the send does not lose them. The row is deleted
    when the update is finished."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "update_key", name="uq_inbox_update"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # arrival order
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    chat: Mapped[str] = mapped_column(String(64))  # one chat's updates are handled in order
    body: Mapped[str] = mapped_column(Text)  # the update as the platform sent it (JSON)
    replies: Mapped[list | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
