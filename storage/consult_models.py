"""Tables of the consultation line (R-5.1–R-5.12): consultations, callback requests, and the
questions the knowledge base could not answer."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class Consultation(Base):
    """One consultation: an FAQ answer, a live conversation or a completed callback, with the
    two questions of R-5.12 (answered yes/no; the rating 3/2/1)."""

    __tablename__ = "consultations"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(12))  # faq | live | callback
    topic: Mapped[str | None] = mapped_column(String(20))
    entry_id: Mapped[str | None] = mapped_column(String(64))  # the knowledge-base entry (faq)
    status: Mapped[str] = mapped_column(String(12), default="active")  # waiting | active | ended
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # the last staff member
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    answered: Mapped[bool | None] = mapped_column(Boolean)  # «Получен ли ответ на Ваш вопрос?»
    rating: Mapped[int | None] = mapped_column(Integer)  # 3 satisfied, 2 partly, 1 not
    rated_at: Mapped[datetime | None]


class ConsultationStaff(Base):
    """Every staff member who took part in a consultation, in order (transfers, R-5.7, R-5.8)."""

    __tablename__ = "consultation_staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)  # why it was transferred


class CallbackRequest(Base):
    """A citizen's request to be called back (R-5.9)."""

    __tablename__ = "callback_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(20))
    windows: Mapped[list] = mapped_column(JSON, default=list)  # [[start ISO, end ISO], …] local time
    due_by: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="new")  # new | taken | done | not_reached
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class UnansweredQuestion(Base):
    """A question the knowledge base found no answer to, without personal data (R-5.6)."""

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # redacted
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


Index("ix_callback_requests_open", CallbackRequest.status, CallbackRequest.due_by)


class StaffPresence(Base):
    """Whether a staff member takes live conversations now, and where they do (R-5.3)."""

    __tablename__ = "staff_presence"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))  # where conversations reach them
    user_id: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
