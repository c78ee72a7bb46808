from __future__ import annotations

import pytest

from storage.db import make_engine, make_sessionmaker, writer_gate
from storage.hot import HotWriter


@pytest.fixture
async def hot(db_url):
    """(sessionmaker, the hot path's writer) on one database of each kind."""
    engine = make_engine(db_url)
    writer = HotWriter.for_engine(engine, writer_gate(engine))
    try:
        yield make_sessionmaker(engine), writer
    finally:
        await writer.close()
        await engine.dispose()
