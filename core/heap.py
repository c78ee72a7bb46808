"""Once start-up is over: keep the long-lived heap out of the cycle collector's sight."""
from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move what start-up allocated (aiogram's pydantic models, SQLAlchemy, the profile) out of
    the cycle collector's sight; otherwise each full collection walks it all, 130-180 ms with the
    event loop stopped (bench/bench_telegram.py). Once per process: freezing again later would
    pin whatever cyclic garbage is around by then."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
