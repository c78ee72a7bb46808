"""Migrations from empty, on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import inspect

from storage import migrate
from storage.db import make_engine
from storage.models import Base


async def tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_from_empty_match_the_models_and_go_down_and_up(db_url):
    engine = make_engine(db_url)
    try:
        await migrate.upgrade(engine)
        assert set(Base.metadata.tables) <= await tables(engine)
        await migrate.downgrade(engine, "base")
        assert await tables(engine) <= {"alembic_version"}
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)  # a second upgrade is a no-op
        assert set(Base.metadata.tables) <= await tables(engine)
    finally:
        await engine.dispose()


async def test_models_and_migrations_do_not_drift(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert diff == []
    finally:
        await engine.dispose()
