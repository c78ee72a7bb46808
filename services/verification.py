"""Identification in the assistant: login attempts kept in the database, the one-time link
sent in the chat, and the verified name bound to the citizen with a notice in their chat
(59-FZ art. 4, 7 as amended by 547-FZ). The OpenID Connect work is services/identification.py."""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from datetime import datetime

from services import notices
from services.identification import ATTEMPT_TTL, Attempt, Identified, IdentificationService, OidcConfig
from services.notices import STATUS, Kind
from storage.appeal_rules_models import LoginAttempt, Verification
from storage.models import Citizen
from storage.repos import appeal_rules as rows
from storage.repos import people
import texts as T

log = logging.getLogger(__name__)
START_PATH = "/id/start/{state}"
# The dialog's own transaction, while it makes a link: the attempt is stored with the reply.
_dialog_session: ContextVar = ContextVar("identification_dialog_session", default=None)

notices.register_kind(Kind("citizen.identified", STATUS), {"text": T.NOTICE_IDENTIFIED})


class DbAttemptStore:
    """The AttemptStore of services/identification.py in the database: an attempt survives a
    restart and works across processes; a take deletes it in one statement (no replay)."""

    def __init__(self, sessionmaker, clock, gate=None) -> None:
        self.sessionmaker, self.clock, self.gate = sessionmaker, clock, gate

    def _gate(self):
        return self.gate if self.gate is not None else contextlib.nullcontext()

    async def put(self, state: str, attempt: Attempt) -> None:
        row = LoginAttempt(state=state, citizen_ref=attempt.citizen_ref, nonce=attempt.nonce,
                           code_verifier=attempt.code_verifier, authorize_url=attempt.authorize_url,
                           expires_at=attempt.expires_at)
        session = _dialog_session.get()
        if session is not None:
            await rows.put_attempt(session, row, self.clock(), ATTEMPT_TTL)
            return
        async with self._gate(), self.sessionmaker() as s, s.begin():
            await rows.put_attempt(s, row, self.clock(), ATTEMPT_TTL)

    async def take(self, state: str) -> Attempt | None:
        async with self._gate(), self.sessionmaker() as s, s.begin():
            row = await rows.take_attempt(s, state)
        if row is None:
            return None
        return Attempt(row.citizen_ref, row.nonce, row.code_verifier, row.expires_at, row.authorize_url)


def make_service(*, issuer: str | None, client_id: str | None, client_secret: str | None, scopes: str,
                 public_base_url: str, sessionmaker, clock, gate=None) -> IdentificationService | None:
    """None without a configured provider: the feature is off and says so."""
    config = OidcConfig.from_env({"OIDC_ISSUER": issuer or "", "OIDC_CLIENT_ID": client_id or "",
                                  "OIDC_CLIENT_SECRET": client_secret or "", "OIDC_SCOPES": scopes},
                                 public_base_url)
    if not config.enabled:
        return None
    return IdentificationService(config, DbAttemptStore(sessionmaker, clock, gate), clock=clock)


def citizen_ref(citizen_id: int, channel: str, user_id: str) -> str:
    """Whom an attempt is for and where to tell them: "<citizen id>:<channel>:<user id>"."""
    return f"{citizen_id}:{channel}:{user_id}"


async def start_link(service: IdentificationService, session, *, citizen_id: int, channel: str, user_id: str,
                     public_base_url: str = "") -> str:
    """The one-time link for the chat: a short one on the agency's address when it is known.
    The attempt is written in `session`, the dialog's transaction."""
    token = _dialog_session.set(session)
    try:
        link = await service.start(citizen_ref(citizen_id, channel, user_id))
    finally:
        _dialog_session.reset(token)
    if public_base_url:
        return public_base_url.rstrip("/") + START_PATH.format(state=link.state)
    return link.url


async def bind(session, identified: Identified, *, profile, now: datetime) -> Verification | None:
    """Store the verified name and level for the attempt's citizen and tell them in their chat."""
    cid, _, rest = identified.citizen_ref.partition(":")
    channel, _, user_id = rest.partition(":")
    citizen = await session.get(Citizen, int(cid)) if cid.isdigit() else None
    if citizen is None:
        log.warning("identification: the attempt's citizen is gone")
        return None
    row = Verification(citizen_id=citizen.id, subject=identified.subject, full_name=identified.full_name,
                       assurance_level=identified.assurance_level, verified_at=now)
    session.add(row)
    citizen.full_name = identified.full_name
    people.touch(citizen)  # workers' cached «identified as» facts are stale, even with the same name
    level = T.IDENTIFIED_LEVEL.format(level=identified.assurance_level) if identified.assurance_level else ""
    if channel and user_id:
        notices.add(session, notices.Renderer(profile), "citizen.identified", targets=[(channel, user_id)],
                    params={"name": identified.full_name, "level": level}, citizen_id=citizen.id, not_before=now)
    await session.flush()
    return row
