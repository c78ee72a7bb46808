"""The agency profile: every agency-specific fact, from one TOML file."""
from __future__ import annotations

from typing import Literal

import logging
import tomllib
from datetime import date, time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

log = logging.getLogger(__name__)

# A value that the regulation does not give and an administrator must fill in.
TO_FILL = "ЗАПОЛНИТЬ"


class ProfileError(Exception):
    """The profile cannot be used; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Strict):
    name: str
    short_name: str
    phone: str
    site: str = ""
    email: str = ""
    timezone: str = "Europe/Moscow"
    number_prefix: str = Field(min_length=1, max_length=8)


class Hours(_Strict):
    opens: time
    closes: time
    breaks: list[tuple[time, time]] = []


class CalendarOverrides(_Strict):
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []
    shortened_days: list[date] = []


class Office(_Strict):
    address: str
    directions: str
    map_url: str = ""
    accessibility: str


class Choice(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    title: str = Field(min_length=1, max_length=40)
    keywords: list[str] = []


class Refusal(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    title: str
    text: str


class OtherAgency(_Strict):
    name: str
    handles: str
    contacts: str


class Faq(_Strict):
    question: str = Field(max_length=40)
    answer: str


class Canned(_Strict):
    title: str = Field(max_length=40)
    text: str


class Limits(_Strict):
    appeal_text_max: int = 15000
    appeal_files_max: int = 10
    answer_days: int = 30
    redirect_days: int = 7
    visits_max_future: int = Field(2, ge=1)  # future visits one citizen may hold at once
    visit_min_lead_hours: int = Field(3, ge=0)  # no booking closer than this to the start
    visit_booking_days: int = Field(14, ge=1)  # how many days ahead the citizen is offered
    # The date shown when registration + answer_days falls on a day off: the next or the
    # previous working day (59-FZ art. 12 counts calendar days and says nothing of days off).
    deadline_shift: Literal["next", "previous"] = "next"
    message_answer_days: int | None = Field(None, ge=1)  # a message's term (not 59-FZ); None: as an appeal
    extend_role: str = "supervisor"  # who may extend the term (art. 12 p. 2: the head or a deputy)
    appeals_per_hour: int = Field(5, ge=1)  # appeals one citizen may send in any 60 minutes
    appeals_per_day: int = Field(20, ge=1)  # ... and in any 24 hours
    # New-appeal announcements reach one staff member at most once per this many minutes; the
    # appeals in between come as one grouped notice. 0: each at once (still grouped while unsent).
    staff_announce_minutes: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _day_holds_the_hour(self):
        if self.appeals_per_day < self.appeals_per_hour:
            raise ValueError("appeals_per_day is less than appeals_per_hour")
        return self


class Privacy(_Strict):
    # False: messengers get only "your appeal has an answer", the text goes by e-mail.
    full_text_in_messengers: bool = True
    # Foreign messengers (the registry marks them; Telegram): "no_personal_data" for a state body
    # (41-FZ of 01.04.2025), "full" for an organisation that may use them.
    foreign_messengers: Literal["full", "no_personal_data"] = "no_personal_data"
    policy_url: str = ""  # the agency's personal data policy (152-FZ art. 18.1)
    archive_years: int = Field(5, ge=1)  # appeals and answers are kept, then anonymised (59-FZ records)
    draft_days: int = Field(7, ge=1)  # unfinished drafts and their files
    consultation_days: int = Field(365, ge=1)  # consultations and callback requests
    left_days: int = Field(30, ge=1)  # a channel identity that cannot be reached and is silent this long


class Consult(_Strict):
    """The consultation line (R-5.3, R-5.7–R-5.9)."""

    idle_minutes: int = Field(15, ge=1)  # a live conversation with no messages ends after this
    max_transfers: int = Field(2, ge=0)  # per conversation
    callback_days: int = Field(2, ge=1)  # we call back by the end of this working day after the request
    callback_offer_days: int = Field(3, ge=1)  # working days whose hours are offered as windows
    local_time: str = "по местному времени"  # how the profile's time zone is named to citizens


class Profile(_Strict):
    agency: Agency
    hours: Hours
    calendar: CalendarOverrides = CalendarOverrides()
    office: Office
    survey_url: str
    limits: Limits = Limits()
    privacy: Privacy = Privacy()
    topics: list[Choice] = Field(min_length=1)
    needs: list[Choice] = Field(min_length=1)
    refusals: list[Refusal] = Field(min_length=1)
    other_agencies: list[OtherAgency] = []
    faq: list[Faq] = []
    canned_replies: list[Canned] = []
    # Where a message becomes a formal appeal under 59-FZ: the Gosuslugi / ПОС form (547-FZ).
    appeal_form_url: str = ""
    knowledge_base: str = ""  # the knowledge base file, relative to the profile
    consult: Consult = Consult()

    @field_validator("topics", "needs", "refusals")
    @classmethod
    def _unique_ids(cls, items):
        ids = [i.id for i in items]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"repeated id: {', '.join(sorted(dup))}")
        return items

    def topic(self, topic_id: str | None) -> Choice | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def need(self, need_id: str | None) -> Choice | None:
        return next((n for n in self.needs if n.id == need_id), None)

    def missing_facts(self) -> list[str]:
        """Keys still marked as to be filled in."""
        found: list[str] = []

        def walk(value, path: str) -> None:
            if isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name), f"{path}.{name}" if path else name)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, f"{path}[{i}]")
            elif isinstance(value, str) and TO_FILL in value:
                found.append(path)

        walk(self, "")
        return found


def filled(value: str) -> bool:
    return bool(value) and TO_FILL not in value


def load_profile(path: Path | str) -> Profile:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ProfileError(f"agency profile not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"agency profile {path} is not valid TOML: {e}") from e
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise ProfileError(f"agency profile {path}: {problems}") from e
    return profile


def missing_line(profile: Profile) -> str | None:
    """One readable line for the assistant's start: what the agency still has to fill in."""
    missing = profile.missing_facts()
    if not missing:
        return None
    return (f"agency profile: {len(missing)} facts still to be filled in (shown to nobody until then): "
            f"{', '.join(missing)}. Check with: python -m admin_cli profile check")
