"""The consultation line's common part (R-5.1, R-5.6, R-5.12): the knowledge base and its search,
answers from it as consultations, unanswered questions, the two questions after a consultation,
and a citizen's earlier appeals and consultations for staff."""
from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from services import notices, outbox
from services.knowledge import Entry, load_knowledge
from services.knowledge_search import Decision, Searcher, redact
from services.profile import Profile
from storage.consult_models import Consultation, UnansweredQuestion
from storage.models import Appeal, Citizen
from storage.repos import appeals as appeal_rows
from storage.repos import consult as rows

QUESTION_MAX = 1000  # characters of a question kept for staff


_SEARCHERS: dict[tuple[str, float], Searcher] = {}  # built once per process and file version (~2-3 s)


class Knowledge:
    """The knowledge base is read (and checked) at start-up; its search index is built on the
    first question, once per process, so start-up stays quick."""

    def __init__(self, path: Path, topics: list[str]) -> None:
        self.path = Path(path)
        self.kb = load_knowledge(self.path, topics)
        self._lock = threading.Lock()

    @property
    def searcher(self) -> Searcher:
        with self._lock:
            key = (str(self.path), self.path.stat().st_mtime)
            if key not in _SEARCHERS:
                _SEARCHERS[key] = Searcher(self.kb)
            return _SEARCHERS[key]

    def decide(self, text: str) -> Decision:
        return self.searcher.decide(text)

    def get(self, entry_id: str) -> Entry | None:
        return self.kb.get(entry_id)


def knowledge_for(profile: Profile, profile_path: Path | str) -> Knowledge | None:
    """The profile's knowledge base (its path is relative to the profile file), or None."""
    if not profile.knowledge_base:
        return None
    return Knowledge(Path(profile_path).parent / profile.knowledge_base, [t.id for t in profile.topics])


async def answered_from_base(session, *, citizen_id: int, channel: str, entry: Entry, now: datetime) -> Consultation:
    """An answer from the knowledge base is a consultation of its own (kind faq)."""
    c = Consultation(citizen_id=citizen_id, channel=channel, kind="faq", topic=entry.topic, entry_id=entry.id,
                     status="ended", started_at=now, ended_at=now, last_activity_at=now)
    session.add(c)
    await session.flush()
    return c


async def keep_unanswered(session, *, channel: str, text: str, now: datetime) -> None:
    """A question without an answer, without personal data, for staff to improve the base (R-5.6)."""
    session.add(UnansweredQuestion(channel=channel, text=redact(text)[:QUESTION_MAX], created_at=now))


async def record_answer(session, consultation_id: int, citizen_id: int, *, answered: bool | None = None,
                        rating: int | None = None, now: datetime) -> Consultation | None:
    """The two questions of R-5.12, on the citizen's own consultation; None if it is not theirs
    or already rated."""
    c = await session.get(Consultation, consultation_id)
    if c is None or c.citizen_id != citizen_id or c.rating is not None:
        return None
    if answered is not None:
        c.answered = answered
    if rating is not None and rating in (1, 2, 3):
        c.rating, c.rated_at = rating, now
    return c


def _register() -> None:
    import texts as T

    notices.register_kind(notices.Kind("consult.ask", notices.ANSWERS, buttons=(
        ("Q_YES", "cq:{consultation_id}:a:1"), ("Q_NO", "cq:{consultation_id}:a:0"))), T.CONSULT_NOTICES["consult.ask"])


_register()


async def ask_two_questions(session, profile: Profile, consultation: Consultation, *, now: datetime) -> None:
    """Send «Получен ли ответ на Ваш вопрос?» to the citizen's channel of the consultation."""
    citizen = await session.get(Citizen, consultation.citizen_id) if consultation.citizen_id else None
    target = await outbox.channel_target(session, citizen, consultation.channel) if citizen else None
    if target is None:
        return
    notices.add(session, notices.Renderer(profile), "consult.ask", targets=[target],
                params={"consultation_id": consultation.id}, citizen_id=citizen.id, not_before=now)


async def history(session, citizen_id: int | None) -> tuple[list[Appeal], list[Consultation]]:
    """The citizen's earlier appeals and consultations, newest first (for staff, R-5.3)."""
    if citizen_id is None:
        return [], []
    return (await appeal_rows.of_citizen(session, citizen_id, limit=5),
            await rows.of_citizen(session, citizen_id, limit=6))
