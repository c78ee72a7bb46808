"""The knowledge base of the consultation line (R-5.1, R-5.6, R-5.11): entries from one TOML file.

Each agency ships its own file; the profile's `ЗАПОЛНИТЬ` convention marks facts still to be filled in,
and such facts are never shown to citizens.
"""
from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from services.profile import TO_FILL, filled

log = logging.getLogger(__name__)

NextStep = Literal["appeal", "visit", "specialist", "callback", "status"]


class KnowledgeError(Exception):
    """The knowledge base cannot be used; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=40)
    questions: list[str] = Field(min_length=2)
    answer: str = Field(min_length=1, max_length=1200)
    topic: str = Field(min_length=1)
    within_powers: bool
    next: list[NextStep] = []
    refer_to: str = ""   # outside the Service's powers: the body to go to and how
    contacts: str = ""   # that body's contacts; hidden while marked ЗАПОЛНИТЬ

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, questions: list[str]) -> list[str]:
        if any(not q.strip() for q in questions):
            raise ValueError("a question is blank")
        return questions

    @model_validator(mode="after")
    def _referral(self) -> Entry:
        if not self.within_powers and not self.refer_to.strip():
            raise ValueError("refer_to is required when within_powers is false")
        if self.within_powers and self.refer_to:
            raise ValueError("refer_to is only for entries outside the Service's powers")
        return self

    def reply(self) -> str:
        """The text for the citizen: the answer, plus the contacts once they are filled in."""
        if filled(self.contacts):
            return f"{self.answer}\n\n{self.contacts}"
        return self.answer


class KnowledgeBase(_Strict):
    entries: list[Entry] = Field(min_length=1)
    _by_id: dict[str, Entry] = PrivateAttr(default_factory=dict)

    @field_validator("entries")
    @classmethod
    def _unique_ids(cls, entries: list[Entry]) -> list[Entry]:
        ids = [e.id for e in entries]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"repeated id: {', '.join(sorted(dup))}")
        return entries

    def model_post_init(self, __context) -> None:
        self._by_id = {e.id: e for e in self.entries}

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def missing_facts(self) -> list[str]:
        """Keys still marked as to be filled in."""
        return [f"entries[{i}].contacts ({e.id})" for i, e in enumerate(self.entries) if TO_FILL in e.contacts]


def _where(loc: tuple, raw: dict) -> str:
    """'entries[3].title (roof_leak)' from a pydantic location."""
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
        else:
            parts.append(str(p))
    key = ".".join(parts)
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        items = raw.get("entries")
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            entry_id = items[loc[1]].get("id")
            if isinstance(entry_id, str):
                key += f" ({entry_id})"
    return key


def load_knowledge(path: Path | str, topics: Iterable[str] | None = None) -> KnowledgeBase:
    """Read and check the file; with `topics` (the profile's topic ids) every entry's topic must be one of them."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise KnowledgeError(f"knowledge base not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise KnowledgeError(f"knowledge base {path} is not valid TOML: {e}") from e
    try:
        kb = KnowledgeBase.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{_where(err['loc'], raw)}: {err['msg']}" for err in e.errors())
        raise KnowledgeError(f"knowledge base {path}: {problems}") from e
    if topics is not None:
        known = set(topics)
        wrong = [f"entries[{i}].topic ({e.id}): unknown topic {e.topic!r}"
                 for i, e in enumerate(kb.entries) if e.topic not in known]
        if wrong:
            raise KnowledgeError(f"knowledge base {path}: {'; '.join(wrong)}")
    missing = kb.missing_facts()
    if missing:
        log.warning("knowledge base %s: still to be filled in: %s", path, ", ".join(missing))
    return kb
