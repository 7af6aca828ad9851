"""Database engine, and transactions that carry the tenant for PostgreSQL row-level security.

Every service opens its work with ``tenant_transaction(tenant_id)`` (or ``system_transaction()``
for work that legitimately spans tenants: sign-in, the outbox worker, regulators' read views).
On PostgreSQL this sets ``app.tenant_id`` / ``app.all_tenants`` for that transaction only, and the
row-level security policies on tenant-owned tables compare against them: a query that forgot its
tenant filter still sees only the current tenant's rows. On SQLite the settings are a no-op.

Piccolo's nested ``transaction()`` joins the outer one instead of making a savepoint, so an error
raised inside must never be swallowed by a caller that then lets the outer block commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString


def build_engine(database_url: str) -> Engine:
    """Create the Piccolo engine for a ``sqlite:///`` or ``postgresql://`` URL."""
    if database_url.startswith("sqlite:///"):
        # sqlite:///relative/path or sqlite:////absolute/path, as SQLAlchemy spells them.
        path = Path(unquote(database_url[len("sqlite:///") :]))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path))
    return PostgresEngine(config={"dsn": database_url})


def get_engine() -> Engine:
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("No Piccolo engine configured: is PICCOLO_CONF set to portal.piccolo_conf?")
    return engine


def is_postgres() -> bool:
    return isinstance(get_engine(), PostgresEngine)


async def start_pool() -> bool:
    """Open the PostgreSQL pool; returns False if one was already open (its opener closes it)."""
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=2, max_size=10)
        return True
    return False


async def close_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def execute(sql: str, *args: object) -> list[dict]:
    """Run raw SQL (``{}`` placeholders) inside the current transaction if there is one."""
    return await get_engine().run_querystring(QueryString(sql, *args))


@asynccontextmanager
async def _scoped_transaction(tenant_id: int | None, all_tenants: bool) -> AsyncIterator[None]:
    engine = get_engine()
    if engine.current_transaction.get() is not None:
        # Joining an outer transaction keeps the outer scope: a service called from another
        # service runs with the rights its caller already established.
        yield
        return
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):
            await execute(
                "SELECT set_config('app.tenant_id', {}, true), set_config('app.all_tenants', {}, true)",
                "" if tenant_id is None else str(tenant_id),
                "on" if all_tenants else "off",
            )
        yield


def tenant_transaction(tenant_id: int) -> AsyncIterator[None]:
    """A transaction that may only see and write rows of ``tenant_id`` on tenant-owned tables."""
    return _scoped_transaction(tenant_id, all_tenants=False)


def system_transaction() -> AsyncIterator[None]:
    """A transaction that spans tenants: sign-in, workers, operator and regulator read views."""
    return _scoped_transaction(None, all_tenants=True)
