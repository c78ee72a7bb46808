"""The channel registry: every way of reaching a person is one registered `ChannelSpec`.

A channel package (`channels/<name>/`) registers its spec once; the runner, settings, routing,
pacing, staff identities, text labels and the admin CLI iterate over `registered()`. Nothing
else names a channel."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from core.events import Capabilities

if TYPE_CHECKING:
    from core.ports import Adapter, Host


@dataclass(frozen=True)
class Limit:
    """Send pacing: messages per second overall, and seconds between two to one recipient."""

    per_second: float
    per_address_interval: float = 0.0


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    title: str  # «Telegram», «ВКонтакте»: in lists and cards
    to_phrase: str  # «в Telegram», «на электронную почту»: where a notice goes
    messenger: bool  # people write from it, and can be notified there
    foreign: bool  # a foreign messenger (41-FZ): the profile's privacy policy applies
    short_phrase: str = ""  # «на e-mail»: on a button; to_phrase when empty
    capabilities: Capabilities = field(default_factory=Capabilities)
    limit: Limit | None = None
    user_id_pattern: str = r".{1,254}"  # what a user id of this channel looks like
    order: int = 50  # fallback order: lower is tried first
    settings: type | None = None  # its settings block (pydantic-settings, own env prefix)
    configured: Callable[[Any], bool] = lambda settings: False  # whether the settings turn it on
    build: Callable[[Host, Any], Adapter] | None = None  # the running adapter
    staff: bool = True  # staff members can be identified by a user id in it

    def valid_user_id(self, value: str) -> bool:
        return re.fullmatch(self.user_id_pattern, value or "") is not None


_REGISTRY: dict[str, ChannelSpec] = {}


def register(spec: ChannelSpec) -> ChannelSpec:
    """Add a channel (or replace one of the same name: tests register toy channels)."""
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> list[ChannelSpec]:
    """All channels, in fallback order."""
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


def get(name: str | None) -> ChannelSpec | None:
    return _REGISTRY.get(name or "")


def messengers() -> list[str]:
    return [s.name for s in registered() if s.messenger]


def is_messenger(name: str | None) -> bool:
    spec = get(name)
    return spec is not None and spec.messenger


def title(name: str | None) -> str:
    spec = get(name)
    return spec.title if spec else (name or "")


def to_phrase(name: str | None) -> str:
    spec = get(name)
    return spec.to_phrase if spec else (name or "")


def short_phrase(name: str | None) -> str:
    spec = get(name)
    return (spec.short_phrase or spec.to_phrase) if spec else (name or "")
