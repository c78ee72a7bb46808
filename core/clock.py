"""The one clock of the program: aware UTC. Tests replace it through the app's `clock`."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
