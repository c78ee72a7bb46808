"""The rules of 59-FZ as amended by 547-FZ that sit beside the state machine: the kind of a
submission, the answer address, repeated appeals, the 7-day limits, what the staff card shows.

- Art. 4, 7: an electronic appeal comes from an identified citizen; anything else a citizen
  writes is a message («сообщение») that staff handle the same way.
- Art. 7 p. 3: the e-mail address for the answer is in .ru, .рф or .su.
- Art. 8 p. 3 and art. 11 p. 2: a redirect, and the return of an appeal against a court
  decision, within 7 days of registration.
- Art. 11 p. 5: the same person's appeal on a matter already answered is linked to the earlier ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from services import notices
from services.addresses import national_domain, parse_email
from services.appeals import APPEAL, EARLY_STATUSES
from services.notices import ANSWERS, STAFF, STATUS, Kind
from storage.models import Appeal
from storage.repos import appeal_rules as rows
import texts as T

REDIRECT_SOON_DAYS = 2  # the queue shows appeals this close to the 7-day limit
REPEAT_OVERLAP = 0.3  # share of the shorter text's words the texts must have in common
WORD_RE = re.compile(r"[а-яёa-z0-9]{4,}")

for _kind, _template in (
    (Kind("message.registered", STATUS), T.NOTICE_MESSAGE_REGISTERED),
    (Kind("appeal.withdrawn", STATUS), T.NOTICE_WITHDRAWN),
    (Kind("appeal.stopped", ANSWERS, final=True, buttons=notices.RATING_BUTTONS), T.NOTICE_STOPPED),
    (Kind("appeal.court_returned", ANSWERS, final=True, buttons=notices.RATING_BUTTONS), T.NOTICE_COURT_RETURNED),
    (Kind("staff.clarified", STAFF, buttons=(("STAFF_OPEN_CARD", "sc:{appeal_id}"),)), {"text": T.STAFF_CLARIFIED}),
):
    notices.register_kind(_kind, _template if isinstance(_template, dict)
                          else {"text": _template, "subject": T.NOTICE_SUBJECT})


async def verification(session, citizen_id: int):
    """The citizen's latest verified identity, or None."""
    return await rows.latest_verification(session, citizen_id)


async def verified_as(session, citizen_id: int) -> str | None:
    """The name the citizen was identified as ("" if the provider gave none), or None."""
    found = await verification(session, citizen_id)
    return None if found is None else (found.full_name or "")


def email_problem(text: str, kind: str) -> tuple[str | None, str | None]:
    """(the normalised address, None) or (None, the refusal text) for an answer address."""
    check = parse_email(text)
    if not check.ok:
        return None, T.EMAIL_REFUSED.get(check.reason, T.EMAIL_INVALID)
    if kind == APPEAL and not national_domain(check.address):
        return None, T.EMAIL_NOT_NATIONAL
    return check.address, None


def _words(text: str) -> set[str]:
    return set(WORD_RE.findall(text.casefold().replace("ё", "е")))


def same_matter(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    shorter = min(len(wa), len(wb))
    return shorter > 0 and len(wa & wb) / shorter >= REPEAT_OVERLAP


async def repeat_of(session, citizen_id: int, topic: str, text: str):
    """Art. 11 p. 5: the same person's latest appeal on the same matter, which a new appeal with
    this topic and text repeats (services/appeals.py `register` links them): its id and
    number, or None."""
    for earlier in await rows.earlier_on_topic(session, citizen_id, topic):
        if same_matter(earlier.text, text):
            return earlier
    return None


def redirect_state(appeal: Appeal, today: date) -> str | None:
    """"soon" near the 7-day limit, "late" past it, None otherwise or when no longer relevant."""
    if appeal.redirect_by is None or appeal.status not in EARLY_STATUSES:
        return None
    if today > appeal.redirect_by:
        return "late"
    return "soon" if (appeal.redirect_by - today).days <= REDIRECT_SOON_DAYS else None


@dataclass
class CardFacts:
    kind: str
    statutory: date | None
    redirect: str | None
    repeats: list[Appeal]
    question: str | None
    answer: str | None


async def card_facts(session, appeal: Appeal, today: date) -> CardFacts:
    chain, seen, cur = [], {appeal.id}, appeal.repeat_of_id
    while cur and cur not in seen and len(chain) < 10:
        seen.add(cur)
        found = await rows.by_ids(session, [cur])
        if not found:
            break
        chain.append(found[0])
        cur = found[0].repeat_of_id
    asked = await rows.last_event(session, appeal.id, "ask")
    answered = await rows.last_event(session, appeal.id, "clarified")
    answer = answered.note if answered is not None and asked is not None and answered.id > asked.id else None
    return CardFacts(appeal.kind, appeal.statutory_deadline, redirect_state(appeal, today), chain,
                     asked.note if asked else None, answer)
