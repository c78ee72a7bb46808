"""Unsent appeals are kept (the newcomer issue, item 9): leaving the wizard with /menu, /help or
«Отменить» keeps the draft in the dialog state; the main menu offers to continue or delete it,
and deleting asks first."""
from __future__ import annotations

import texts as T
from core.events import Button, Reply
from dialogs.context import NAV_MENU, Context, Step, global_button, step
from services import personal_data

KEY = "draft"
SKIP = ("appeal.done", "appeal.clarify")


def keep(ctx: Context, data: dict) -> bool:
    """Called when a dialog is left: an appeal draft with text survives. True when kept."""
    step_name = getattr(ctx, "current", None) or ""
    if step_name.startswith("appeal.") and step_name not in SKIP and (ctx.data.get("text") or ctx.data.get("files")):
        data[KEY] = {"flow": dict(ctx.data), "step": step_name}
        return True
    return False


def forget(ctx: Context) -> None:
    ctx.kept.pop(KEY, None)


def waiting(ctx: Context) -> tuple[str, list[list[Button]]]:
    """The main menu's note and buttons when a draft waits."""
    if not ctx.kept.get(KEY):
        return "", []
    return T.DRAFT_WAITING + "\n\n", [[Button(T.DRAFT_RESUME, "draft:resume")], [Button(T.DRAFT_DROP, "draft:drop")]]


@global_button("draft:")
async def on_draft(ctx: Context, payload: str) -> str | None:
    draft = ctx.kept.get(KEY)
    if not draft:
        ctx.note(T.STALE_BUTTON)
        return "menu"
    if payload == "draft:resume":
        ctx.data = dict(draft["flow"])
        return draft["step"]
    if payload == "draft:drop":
        return "draft.drop"
    return "menu"


@step
class DropDraft(Step):
    name = "draft.drop"

    async def show(self, ctx: Context) -> Reply:
        return Reply(T.DRAFT_DROP_ASK, [[Button(T.DRAFT_DROP_YES, "drop:yes"), Button(T.DRAFT_DROP_NO, NAV_MENU)]])

    async def on_button(self, ctx: Context, payload: str) -> str | None:
        if payload == "drop:yes":
            files = list((ctx.kept.get(KEY) or {}).get("flow", {}).get("files", []))
            if files:  # «Черновик удалён» means it: its files go now (152-FZ art. 21 part 4)
                await personal_data.drop_draft_files(ctx.session, ctx.deps.files, ctx.citizen.id, files)
            forget(ctx)
            ctx.note(T.DRAFT_DROPPED)
            return "menu"
        return None
