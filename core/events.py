"""Channel-neutral inbound events and outbound replies.

Everyone imports this module; it imports nothing of ours. A channel is a registered name
(core/channels.py), not a member of an enum.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attachment:
    """A file a citizen sent. `data` is None when the channel did not download it (too big)."""

    kind: str  # photo | document
    file_name: str
    mime: str
    size: int
    data: bytes | None = None


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: typed text, pressed a button, sent files, or a command."""

    channel: str
    user_id: str
    text: str | None = None
    button: str | None = None  # the payload of a pressed button
    command: str | None = None  # "start", "menu", "help", "status"
    argument: str | None = None  # "/start appeal" -> "appeal"
    attachments: tuple[Attachment, ...] = ()
    display_name: str | None = None
    unsupported: bool = False  # something the channel cannot pass on (a sticker, a location)
    cut: int | None = None  # the text was longer: only this many characters of it arrived


@dataclass(frozen=True)
class Address:
    """A person in a channel: where a reply to someone other than the sender goes."""

    channel: str
    user_id: str


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class OutFile:
    name: str
    mime: str
    data: bytes


@dataclass
class Reply:
    """One message to show. `buttons` are rows. `replace` hints that it may replace the
    previous bot message (a wizard step), where the platform can edit messages."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    files: list[OutFile] = field(default_factory=list)
    replace: bool = False
    subject: str | None = None  # for e-mail
    to: Address | None = None  # None: the sender; else another person (an operator, a colleague)
    html: str | None = None  # for e-mail: an HTML part made by the caller (else one from the text)
    headers: dict[str, str] = field(default_factory=dict)  # for e-mail: extra headers (List-Unsubscribe)

    def payloads(self) -> list[str]:
        return [b.payload for row in self.buttons for b in row]


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show; renderers degrade to text where it cannot."""

    max_text: int = 4096
    buttons: bool = True
    edit: bool = False
    max_button_label: int = 64
    max_payload_bytes: int = 64
    files: bool = True


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then word boundaries, so no part exceeds `limit`."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep, 0, limit)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        parts.append(rest)
    return parts
