"""Staff: today's and tomorrow's visits, marking attended or no-show (R-6.1, R-6.8)."""
from __future__ import annotations

from services import citizens
from services.addresses import phone_text
from services import visits as V
import texts as T
from dialogs.context import NAV_MENU, Context, step
from core.events import Button, Reply
from core.privacy import personal
from dialogs.staff import StaffStep

MARKABLE = 8  # buttons for today's visits at most, to keep the screen short


async def lines(ctx: Context, visits) -> str:
    tz = ctx.deps.calendar.tz
    out = []
    for v in visits:
        citizen = await citizens.get(ctx.session, v.citizen_id)
        out.append(T.STAFF_VISIT_LINE.format(
            time=f"{v.starts_at.astimezone(tz):%H:%M}", desk=V.desk_name(v.slot.desk, v.slot.staff_id),
            name=personal(citizen.full_name, "name") if citizen and citizen.full_name else T.STAFF_VISIT_NO_NAME,
            phone=personal(phone_text(citizen.phone), "phone") if citizen and citizen.phone else T.STAFF_VISIT_NO_PHONE,
            topic=V.topic_title(ctx.profile, v.topic), status=T.STAFF_VISIT_STATUS.get(v.status, v.status)))
    return "\n".join(out) or T.STAFF_VISITS_NONE


@step
class StaffVisits(StaffStep):
    name = "staff.visits"

    async def show(self, ctx: Context) -> Reply:
        tz = ctx.deps.calendar.tz
        today, tomorrow = await V.today_and_tomorrow(ctx.session, tz, ctx.now())
        buttons = []
        for v in [v for v in today if v.status == V.BOOKED][:MARKABLE]:
            at = f"{v.starts_at.astimezone(tz):%H:%M}"
            buttons.append([Button(T.STAFF_VISIT_ATTENDED.format(time=at), f"svm:{v.id}:a"),
                            Button(T.STAFF_VISIT_NO_SHOW.format(time=at), f"svm:{v.id}:n")])
        text = T.STAFF_VISITS_TEXT.format(today=await lines(ctx, today), tomorrow=await lines(ctx, tomorrow))
        return Reply(text, [*buttons, [Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]])

    async def staff_button(self, ctx: Context, payload: str) -> str | None:
        parts = payload.split(":")
        if len(parts) != 3 or parts[0] != "svm" or not parts[1].isdigit() or parts[2] not in ("a", "n"):
            return None
        status = V.ATTENDED if parts[2] == "a" else V.NO_SHOW
        try:
            visit = await V.mark(ctx.session, int(parts[1]), status, now=ctx.now(), staff_id=ctx.staff.id)
        except ValueError:
            ctx.note(T.STAFF_VISIT_CANT_MARK)
            return None
        ctx.note(T.STAFF_VISIT_MARKED.format(time=f"{visit.starts_at.astimezone(ctx.deps.calendar.tz):%H:%M}",
                                             status=T.STAFF_VISIT_STATUS[status]))
        return None
