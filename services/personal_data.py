"""Personal data as 152-FZ requires: the privacy notice and which version a person saw
(art. 14, 18), the export of everything held about a person (art. 14, 20: within 10 working
days), and the purge of data with no remaining legal ground (art. 21 part 4-5: within 30 days).

Legal basis: appeals rest on the agency's duty under 59-FZ (152-FZ art. 6 part 1 item 2-3), not
on consent; a consent is asked only where it is the basis (mailings)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import texts as T
from services.calendar import WorkCalendar
from services.profile import Profile, filled
from storage.personal_data_models import DataRequest, TextShown
from storage.models import Citizen
from storage.repos import people
from storage.repos import personal_data as rows

log = logging.getLogger(__name__)

PRIVACY_NOTICE = "privacy_notice"
MAILING_CONSENT = "mailing_consent"
ANSWER_WORKING_DAYS = 10  # 152-FZ art. 14 part 7, art. 20 part 1 (as amended in 2022)


async def shown(session, citizen_id: int, text: str, version: str, channel: str, now: datetime) -> None:
    """Record that the person saw this version of a text."""
    session.add(TextShown(citizen_id=citizen_id, text=text, version=version, channel=channel, at=now))
    citizen = await session.get(Citizen, citizen_id)
    if citizen is not None:
        people.touch(citizen)  # workers' cached «has seen» facts are stale
    await session.flush()


def seen_fact(text: str, version: str) -> str:
    """The name of the fact «has seen this version of this text» on the hot path (dialogs/context.py
    `fact`; storage/hot.py `fact_query` reads it by this name)."""
    return f"seen:{text}:{version}"


async def has_seen(session, citizen_id: int, text: str, version: str) -> bool:
    return await rows.has_seen(session, citizen_id, text, version)


def privacy_notice(profile: Profile) -> str:
    url = profile.privacy.policy_url
    return T.PRIVACY_NOTICE.format(
        agency=profile.agency.name, phone=profile.agency.phone, archive_years=profile.privacy.archive_years,
        draft_days=profile.privacy.draft_days, policy=T.PRIVACY_POLICY_LINE.format(url=url) if filled(url) else "")


def _row(obj, *names: str) -> dict:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, (datetime, date)) else value
    return out


async def held(session, citizen_id: int) -> dict:
    """Everything held about a person, as plain data (the export's JSON)."""
    from services import citizens

    citizen = await citizens.get(session, citizen_id)
    if citizen is None:
        raise LookupError(f"no citizen #{citizen_id}")
    r = await rows.held(session, citizen_id)
    return {
        "citizen": _row(citizen, "id", "full_name", "email", "phone", "postal_address", "notify_channel", "created_at"),
        "identities": [_row(i, "channel", "external_id", "display_name", "reachable", "created_at")
                       for i in r["identities"]],
        "consents": [_row(c, "kind", "withdrawal", "granted_at", "withdrawn_at", "source", "text_version", "address")
                     for c in r["consents"]],
        "appeals": [{**_row(a, "number", "topic", "need", "status", "registered_at", "deadline", "full_name", "text",
                            "answer_channel", "answer_address", "source_channel")} for a in r["appeals"]],
        "files": [_row(f, "file_name", "mime", "size", "created_at", "appeal_id") for f in r["files"]],
        "visits": [_row(v, "topic", "status", "starts_at", "ends_at", "channel", "rating") for v in r["visits"]],
        "consultations": [_row(c, "kind", "topic", "channel", "started_at", "ended_at", "answered", "rating")
                          for c in r["consultations"]],
        "callback_requests": [_row(c, "phone", "topic", "status", "created_at") for c in r["callbacks"]],
        "ratings": [_row(x, "appeal_id", "channel", "score", "created_at") for x in r["ratings"]],
        "mailing_letters": [_row(m, "mailing_id", "status", "address", "sent_at") for m in r["mailing_letters"]],
        "texts_shown": [_row(t, "text", "version", "channel", "at") for t in r["texts_shown"]],
        "data_requests": [_row(d, "kind", "source", "received_at", "due", "done_at") for d in r["data_requests"]],
    }


def _consent_line(c: dict) -> str:
    kind = T.CONSENT_KINDS.get(c["kind"], c["kind"])
    if c["withdrawal"] or c["withdrawn_at"]:
        return T.CONSENT_OFF.format(kind=kind, at=(c["withdrawn_at"] or "")[:10])
    return T.CONSENT_ON.format(kind=kind, at=(c["granted_at"] or "")[:10])


def summary(data: dict) -> str:
    """The readable summary: what «Мои данные» shows and the export's text file."""
    c = data["citizen"]
    none = T.MY_DATA_NONE
    latest: dict[str, dict] = {}
    for consent in data["consents"]:
        latest[consent["kind"]] = consent
    return T.MY_DATA.format(
        name=c["full_name"] or none, email=c["email"] or none, phone=c["phone"] or none, postal=c["postal_address"] or none,
        identities=", ".join(f"{i['channel']}" for i in data["identities"]) or none,
        consents="; ".join(_consent_line(x) for x in latest.values()) or none,
        appeals=len(data["appeals"]), visits=len(data["visits"]), consultations=len(data["consultations"]),
        ratings=len(data["ratings"]))


@dataclass
class Export:
    request_id: int
    due: date
    json: bytes
    summary: bytes


async def export(session, citizen_id: int, profile: Profile, calendar: WorkCalendar, source: str,
                 now: datetime) -> Export:
    """Record the request (with its 10-working-day deadline) and make the files; the request is
    done when the files are handed over (the caller sends them in the same transaction)."""
    due = calendar.add_working_days(now.astimezone(calendar.tz).date(), ANSWER_WORKING_DAYS)
    request = DataRequest(citizen_id=citizen_id, kind="export", source=source[:16], received_at=now, due=due)
    session.add(request)
    await session.flush()
    return await files_for(session, citizen_id, profile, request.id, due, now)


async def files_for(session, citizen_id: int, profile: Profile, request_id: int, due: date, now: datetime) -> Export:
    data = await held(session, citizen_id)
    document = {"operator": profile.agency.name, "made_at": now.isoformat(), "request": request_id, **data}
    title = T.EXPORT_TITLE.format(agency=profile.agency.name)
    text = f"{title}\n{now:%Y-%m-%d %H:%M} UTC\n\n{summary(data)}\n"
    return Export(request_id, due, json.dumps(document, ensure_ascii=False, indent=2).encode(), text.encode())


async def done(session, request_id: int, now: datetime) -> None:
    request = await session.get(DataRequest, request_id)
    request.done_at = now
    await session.flush()


async def open_count(session) -> int:
    return len(await rows.requests(session, open_only=True))


async def requests(session, open_only: bool = False) -> list[DataRequest]:
    return await rows.requests(session, open_only)


async def drop_draft_files(session, files, citizen_id: int, file_ids: list[int]) -> int:
    """A cancelled draft's files: rows and bytes (those of the person, not yet in an appeal)."""
    shas = await rows.delete_draft_files(session, citizen_id, file_ids)
    for sha in shas:
        files.delete(sha)
    return len(shas)


# --- the purge (152-FZ art. 21 part 4-5; 59-FZ records kept for the archive period) ---


@dataclass
class Purged:
    counts: dict[str, int]
    shas: list[str]  # file bytes no row refers to any more: delete them after the commit

    def delete_files(self, files) -> None:
        for sha in self.shas:
            files.delete(sha)


async def purge(session, profile: Profile, now: datetime) -> Purged:
    """Delete or anonymise what has no legal ground left, in this transaction (roll it back for
    a dry run); the counts by kind and the file bytes to delete once it is committed."""
    p = profile.privacy
    counts: dict[str, int] = {}
    shas: list[str] = []

    drafts = await rows.stale_drafts(session, now - timedelta(days=p.draft_days))
    for state in drafts:
        state.step, state.data = None, {}
    counts["drafts"] = len(drafts)
    old_files = await rows.draft_files(session, now - timedelta(days=p.draft_days))
    counts["draft_files"] = len(old_files)
    shas += await rows.delete_files(session, [f.id for f in old_files])

    left = await rows.left_identities(session, now - timedelta(days=p.left_days))
    counts["identities_left"] = len(left)
    await rows.delete_identities(session, [i.id for i in left])

    cons, calls = await rows.old_consultations(session, now - timedelta(days=p.consultation_days))
    counts["consultations"], counts["callback_requests"] = len(cons), len(calls)
    await rows.forget_consultations(session, cons, calls)

    lapsed = await rows.lapsed_mailing_addresses(session)
    counts["mailing_addresses"] = len(lapsed)
    await rows.forget_mailing_addresses(session, lapsed, now)

    archive_before = now - timedelta(days=365 * p.archive_years + p.archive_years // 4 + 1)
    appeals = await rows.archived_appeals(session, archive_before, T.ANONYMISED)
    counts["appeals_anonymised"] = len(appeals)
    people = sorted({a.citizen_id for a in appeals})
    appeal_files = await rows.anonymise_appeals(session, [a.id for a in appeals], T.ANONYMISED)
    counts["appeal_files"] = len(appeal_files)
    shas += await rows.delete_files(session, appeal_files)
    gone = await rows.citizens_only_in_archive(session, people, T.ANONYMISED)
    counts["people_anonymised"] = len(gone)
    await rows.blank_citizens(session, gone)
    await session.flush()
    return Purged(counts, shas)


def purge_job(sessionmaker, files, profile: Profile, clock):
    """The scheduled purge (bot/runner.periodic_jobs)."""
    async def job() -> int:
        async with sessionmaker() as session, session.begin():
            done = await purge(session, profile, clock())
        done.delete_files(files)
        if any(done.counts.values()):
            log.info("personal data purge: %s", ", ".join(f"{k} {v}" for k, v in done.counts.items() if v))
        return sum(done.counts.values())

    return job
