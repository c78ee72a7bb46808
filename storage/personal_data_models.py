"""Tables of personal data handling (152-FZ): which version of each text a person was shown,
and requests for one's data (art. 14, 20) with their deadline."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class TextShown(Base):
    """A person saw this version of a notice or consent text (the privacy notice, the mailing
    consent), in this channel, at this moment."""

    __tablename__ = "texts_shown"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    text: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DataRequest(Base):
    """A request about one's personal data (export; 152-FZ art. 14, 20: answered within
    10 working days). source: the bot's channel or `written` (by the admin CLI)."""

    __tablename__ = "data_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="export")
    source: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None]
