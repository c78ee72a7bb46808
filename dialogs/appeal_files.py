"""Files a citizen sends with an appeal or a clarification: count, size and the type read from
the content, never what the client declared; names cleaned; file names marked personal."""
from __future__ import annotations

import texts as T
from core.privacy import personal
from dialogs.context import Context
from services import citizens
from services.filecheck import detect


async def accept_files(ctx: Context) -> None:
    """Store the event's files in the draft, each checked for count, type and size."""
    deps, limits = ctx.deps, ctx.profile.limits
    for att in ctx.event.attachments:
        files = ctx.data.get("files", [])
        if len(files) >= limits.appeal_files_max:
            ctx.note(T.FILE_LIMIT.format(name=personal(att.file_name, "file"), limit=limits.appeal_files_max))
        elif att.data is None and att.mime not in deps.allowed_mime:  # not even downloaded
            ctx.note(T.FILE_BAD_TYPE.format(name=personal(att.file_name, "file")))
        elif att.size > deps.max_file_bytes or (att.data and len(att.data) > deps.max_file_bytes):
            ctx.note(T.FILE_TOO_BIG.format(name=personal(att.file_name, "file"), limit=round(deps.max_file_bytes / 2**20)))
        elif att.data is None:
            ctx.note(T.FILE_NOT_RECEIVED.format(name=personal(att.file_name, "file")))
        else:  # the content decides the type, never what the client declared
            verdict = detect(att.data, att.mime, att.file_name, allowed=deps.allowed_mime,
                             max_bytes=deps.max_file_bytes)
            if verdict.ok:
                await save_file(ctx, verdict.name, verdict.mime, att.data)
                ctx.note(T.FILE_SAVED.format(name=personal(verdict.name, "file"), count=len(ctx.data["files"])))
            elif verdict.reason == "type_mismatch":
                ctx.note(T.FILE_TYPE_MISMATCH.format(name=personal(verdict.name, "file")))
            elif verdict.reason == "empty":
                ctx.note(T.FILE_NOT_RECEIVED.format(name=personal(verdict.name, "file")))
            else:
                ctx.note(T.FILE_BAD_TYPE.format(name=personal(verdict.name, "file")))


async def save_file(ctx: Context, name: str, mime: str, data: bytes) -> None:
    file_id = await citizens.save_file(ctx.session, ctx.deps.files, ctx.citizen.id, name, mime, data)
    ctx.data.setdefault("files", []).append(file_id)
