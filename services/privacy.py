"""The foreign-messenger policy (41-FZ of 01.04.2025; 152-FZ): in a channel the registry marks
foreign, under the profile's `no_personal_data`, every marked personal value is masked."""
from __future__ import annotations

from dataclasses import replace

import texts as T
from core import channels
from core.events import Reply
from core.privacy import mask, reveal

FULL, NO_PERSONAL_DATA = "full", "no_personal_data"


def masked_value(kind: str, value: str) -> str:
    """What a foreign messenger sees instead of a personal value."""
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "text":
        return T.PD_TEXT_MASK.format(chars=f"{len(value):,}".replace(",", "\u00a0"))
    return T.PD_MASKS.get(kind, T.PD_MASKS["name"])


class Policy:
    """Decides per channel whether personal values are shown or masked."""

    def __init__(self, rule: str) -> None:
        self.rule = rule

    def hides(self, channel: str | None) -> bool:
        spec = channels.get(channel)
        return self.rule == NO_PERSONAL_DATA and spec is not None and spec.foreign

    def text(self, text: str, channel: str | None) -> str:
        return mask(text, masked_value) if self.hides(channel) else reveal(text)

    def reply(self, reply: Reply, channel: str | None) -> Reply:
        """The reply as it may leave through `channel` (its addressee's, if it has one)."""
        where = reply.to.channel if reply.to else channel
        hide = self.hides(where)
        text = mask(reply.text, masked_value) if hide else reveal(reply.text)
        files = [] if hide else reply.files
        if hide and reply.files:
            text = f"{text}\n\n{T.PD_FILES_WITHHELD}"
        return replace(reply, text=text, files=files)
