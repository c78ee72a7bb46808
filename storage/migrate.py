"""Apply Alembic migrations from code (start-up, admin CLI, tests)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def _run(engine: AsyncEngine, alembic_command, revision: str) -> None:
    cfg = alembic_config()

    def run(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        alembic_command(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, command.downgrade, revision)


@lru_cache(maxsize=1)
def heads() -> frozenset[str]:
    """The head revisions of the code's migrations."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def current(engine: AsyncEngine) -> frozenset[str]:
    """The revisions the database is at (empty before the first migration)."""
    async with engine.connect() as conn:
        return frozenset(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
