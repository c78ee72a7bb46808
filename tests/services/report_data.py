"""A known data set for the report tests: March 2026 in Astrakhan (UTC+4), built with the models.

Appeals (registered → closed, working days by the production calendar: 23.02 and 09.03 are holidays):
  A1 telegram heating/fix_violation  reg 20.02, answered 05.03 (8 wd), deadline 23.03 → on time; rated 1 then 3
  A2 vk       heating/recalculation  reg 02.03, answered 12.03 (7 wd), deadline 10.03 → late; rated 1
  A3 telegram water/inspection       reg 02.03, extended 20.03, transferred 03.03, still in work
  A4 email    water/fix_violation    reg 01.02, in work, deadline 03.03 → overdue now
  A5 telegram billing/recalculation  reg 02.03, redirected 06.03 (4 days, 4 wd) → in time, on time
  A6 vk       billing/recalculation  reg 02.03, redirected 12.03 (10 days, 7 wd) → late redirect, on time
  A7 telegram other/other            reg 10.03, registered; its citizen anonymised (still counts)
  A8 vk       other/other            reg 28.02 21:00 UTC = 01.03 01:00 local → counts in March;
                                     deadline 31.03, still registered → overdue now
Consultations ended in March: C1 faq yes/3, C2 live vk staff 1 (1 transfer) yes/2, C3 live no/1,
C4 callback no survey; C5 in February (out). Visits: attended+3, attended, no-show, cancelled.
Callbacks: 04.03 telegram, 20.03 vk. Notices: telegram sent; telegram dead then email (a fallback);
email dead; a postal letter; vk pending; one in February (out). One telegram address unreachable.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from storage.consult_models import CallbackRequest, Consultation
from storage.models import (Appeal, AppealEvent, Citizen, Identity, OutboxMessage, Rating, Staff, Visit,
                            VisitSlot)

TODAY = date(2026, 4, 5)


def utc(month: int, day: int, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


async def build(session) -> dict:
    ivanova = Staff(name="Иванова А. А.", role="operator")
    petrov = Staff(name="Петров Б. Б.", role="supervisor")
    citizen = Citizen(full_name="Сидоров Семён Семёнович", email="sidorov@example.ru")
    ghost = Citizen(full_name=None, email=None)  # anonymised
    session.add_all([ivanova, petrov, citizen, ghost])
    await session.flush()
    session.add_all([Identity(citizen_id=citizen.id, channel="telegram", external_id="1", reachable=False,
                              unreachable_reason="blocked"),
                     Identity(citizen_id=citizen.id, channel="vk", external_id="2")])
    n = 0

    def appeal(channel, topic, need, reg, deadline, status, staff, who=citizen):
        nonlocal n
        n += 1
        a = Appeal(number=f"ЖН-2026-{n:06d}", citizen_id=who.id, source_channel=channel, topic=topic, need=need,
                   text="Текст", full_name=who.full_name or "—", answer_channel="email", answer_address="x@example.ru",
                   status=status, registered_at=reg, deadline=deadline, assigned_staff_id=staff.id if staff else None)
        session.add(a)
        return a

    a1 = appeal("telegram", "heating", "fix_violation", utc(2, 20), date(2026, 3, 23), "answered", ivanova)
    a2 = appeal("vk", "heating", "recalculation", utc(3, 2), date(2026, 3, 10), "answered", petrov)
    a3 = appeal("telegram", "water", "inspection", utc(3, 2), date(2026, 4, 30), "in_work", petrov)
    a4 = appeal("email", "water", "fix_violation", utc(2, 1), date(2026, 3, 3), "in_work", ivanova)
    a5 = appeal("telegram", "billing", "recalculation", utc(3, 2), date(2026, 4, 1), "redirected", ivanova)
    a6 = appeal("vk", "billing", "recalculation", utc(3, 2), date(2026, 4, 1), "redirected", petrov)
    a7 = appeal("telegram", "other", "other", utc(3, 10), date(2026, 4, 9), "registered", None, who=ghost)
    a8 = appeal("vk", "other", "other", utc(2, 28, 21), date(2026, 3, 31), "registered", None)
    await session.flush()
    a3.extended = True

    def ev(a, action, at, status_to=None, status_from="in_work"):
        session.add(AppealEvent(appeal_id=a.id, at=at, actor="staff", actor_id=1, action=action,
                                status_from=status_from, status_to=status_to))

    for a in (a1, a2, a3, a4, a5, a6, a7, a8):
        ev(a, "registered", a.registered_at, "registered", None)
    ev(a1, "take", utc(2, 24), "in_work", "registered")
    ev(a1, "answer", utc(3, 5, 9), "answered")
    ev(a2, "answer", utc(3, 12, 9), "answered")
    ev(a3, "transfer", utc(3, 3))
    ev(a3, "extend", utc(3, 20))
    ev(a5, "redirect", utc(3, 6, 9), "redirected")
    ev(a6, "redirect", utc(3, 12, 9), "redirected")
    await session.flush()
    session.add_all([
        Rating(citizen_id=citizen.id, appeal_id=a1.id, staff_id=ivanova.id, channel="email", score=1,
               created_at=utc(3, 5, 10)),
        Rating(citizen_id=citizen.id, appeal_id=a1.id, staff_id=ivanova.id, channel="telegram", score=3,
               created_at=utc(3, 6, 10)),
        Rating(citizen_id=citizen.id, appeal_id=a2.id, staff_id=petrov.id, channel="vk", score=1,
               created_at=utc(3, 13)),
    ])

    def consult(channel, kind, day, staff, answered, rating, transfers=0, month=3):
        session.add(Consultation(citizen_id=citizen.id, channel=channel, kind=kind, topic="heating",
                                 status="ended", staff_id=staff.id if staff else None, transfers=transfers,
                                 started_at=utc(month, day), ended_at=utc(month, day, 7), answered=answered,
                                 rating=rating))

    consult("telegram", "faq", 3, None, True, 3)
    consult("vk", "live", 4, ivanova, True, 2, transfers=1)
    consult("telegram", "live", 5, petrov, False, 1)
    consult("telegram", "callback", 6, ivanova, None, None)
    consult("telegram", "live", 27, petrov, True, 3, month=2)

    session.add_all([CallbackRequest(citizen_id=citizen.id, channel="telegram", phone="+7", due_by=utc(3, 5),
                                     created_at=utc(3, 4)),
                     CallbackRequest(citizen_id=citizen.id, channel="vk", phone="+7", due_by=utc(3, 21),
                                     created_at=utc(3, 20))])

    for i, (day, status, rating) in enumerate([(5, "attended", 3), (6, "attended", None), (10, "no_show", None),
                                               (11, "cancelled", None)]):
        slot = VisitSlot(desk="Окно 1", starts_at=utc(3, day), ends_at=utc(3, day, 6, 30))
        session.add(slot)
        await session.flush()
        session.add(Visit(citizen_id=citizen.id, slot_id=slot.id, topic="heating", status=status,
                          starts_at=slot.starts_at, ends_at=slot.ends_at, channel="telegram",
                          marked_by=ivanova.id if status in ("attended", "no_show") else None, rating=rating))

    def notice(key, channel, status, day, month=3):
        session.add(OutboxMessage(citizen_id=citizen.id, appeal_id=a1.id, notice=key, kind="appeal.answered",
                                  channel=channel, address="a", text="т", status=status, created_at=utc(month, day)))
        return session.flush()

    await notice("n1", "telegram", "sent", 5)
    await notice("n2", "telegram", "dead", 5)
    await notice("n2", "email", "sent", 5)
    await notice("n3", "email", "dead", 6)
    await notice("n4", "post", "task", 7)
    await notice("n5", "vk", "pending", 8)
    await notice("n6", "telegram", "dead", 20, month=2)
    await session.flush()
    return {"ivanova": ivanova.id, "petrov": petrov.id}
