"""Tables of identification (59-FZ art. 4, 7 as amended by 547-FZ): pending login attempts at
the identity provider, and the verified names bound to citizens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class LoginAttempt(Base):
    """One OpenID Connect login attempt, kept by state until the callback takes it once."""

    __tablename__ = "login_attempts"
    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(String(300))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(200))
    authorize_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Verification(Base):
    """A verified identity bound to a citizen: the name and assurance level the provider gave."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    assurance_level: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
