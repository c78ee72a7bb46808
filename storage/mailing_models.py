"""Tables of e-mail mailings (R-4.1, R-4.2): a mailing, its letters (one per recipient, each
checked against the consent register at the moment it is sent), and e-mail confirmations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class Mailing(Base):
    """status: draft -> sending -> done. The text is Markdown or plain text; the letters'
    plain and HTML parts are made from it."""

    __tablename__ = "mailings"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class MailingLetter(Base):
    """One recipient of a mailing. status: pending -> sending -> sent | skipped (no consent at
    the moment of sending, R-4.1) | failed | unknown (the process stopped while this letter was
    with the SMTP server: never sent again, so nobody gets it twice)."""

    __tablename__ = "mailing_letters"
    __table_args__ = (UniqueConstraint("mailing_id", "citizen_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(254))  # set when sent; cleared by the purge
    status: Mapped[str] = mapped_column(String(12), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


Index("ix_mailing_letters_due", MailingLetter.mailing_id, MailingLetter.status, MailingLetter.id)


class EmailConfirmation(Base):
    """A code sent to a new address before a mailing consent is given for it."""

    __tablename__ = "email_confirmations"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    code: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None]
