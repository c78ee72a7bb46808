"""Personal data marked where a flow or a notice puts it into a text, so the channel's policy
can mask it on the way out (41-FZ: no personal data through foreign messengers).

`personal(value, kind)` wraps a value in private-use characters; `reveal` removes the marks,
`mask` replaces each marked value by what the masker makes of it. Every text leaves the program
through one of the two."""
from __future__ import annotations

import re
from typing import Callable

START, SEP, END = "\ue000", "\ue001", "\ue002"
_MARKED = re.compile(f"{START}([a-z]+){SEP}(.*?){END}", re.S)
KINDS = ("name", "email", "address", "phone", "text", "file")


def personal(value: object, kind: str = "text") -> str:
    text = "" if value is None else str(value)
    return f"{START}{kind}{SEP}{text}{END}" if text else text


def reveal(text: str) -> str:
    return _MARKED.sub(lambda m: m.group(2), text) if START in text else text


def mask(text: str, masker: Callable[[str, str], str]) -> str:
    return _MARKED.sub(lambda m: masker(m.group(1), m.group(2)), text) if START in text else text


def has_marks(text: str) -> bool:
    return START in text
