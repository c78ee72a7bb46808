"""INSERT … ON CONFLICT for SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession):
    """The dialect's INSERT with ON CONFLICT clauses."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def insert_ignore(session: AsyncSession, model, **values) -> bool:
    """Insert a row unless one with the same key exists; True when inserted."""
    result = await session.execute(insert_for(session)(model).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1
