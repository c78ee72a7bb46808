"""Staff: requests about personal data and their deadlines (152-FZ art. 14, 20: 10 working days)."""
from __future__ import annotations

import texts as T
from core.events import Button, Reply
from dialogs.context import NAV_MENU, Context, step
from dialogs.staff import StaffStep, today
from services import personal_data


@step
class StaffDataRequests(StaffStep):
    name = "staff.data_requests"

    async def show(self, ctx: Context) -> Reply:
        found = await personal_data.requests(ctx.session, open_only=False)
        nav = [[Button(T.BACK, "nav:back"), Button(T.MENU, NAV_MENU)]]
        if not found:
            return Reply(T.STAFF_QUEUE_EMPTY, nav)
        day = today(ctx)
        lines = []
        for r in found[-20:]:
            state = (T.STAFF_PD_DONE.format(at=f"{r.done_at:%d.%m.%Y}") if r.done_at
                     else T.STAFF_PD_LATE if r.due < day else T.STAFF_PD_OPEN)
            lines.append(T.STAFF_PD_ITEM.format(id=r.id, citizen=r.citizen_id, received=f"{r.received_at:%d.%m.%Y}",
                                                due=f"{r.due:%d.%m.%Y}", state=state))
        return Reply(T.STAFF_PD_LIST.format(items="\n".join(lines)), nav)
