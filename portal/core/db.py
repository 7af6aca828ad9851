"""Database engine, and transactions that carry the tenant for PostgreSQL row-level security.

Every service opens its work with ``tenant_transaction(tenant_id)`` (or ``system_transaction()``
for work that legitimately spans tenants: sign-in, the outbox worker, regulators' read views).
On PostgreSQL this sets ``app.tenant_id`` / ``app.all_tenants`` for that transaction only, and the
row-level security policies on tenant-owned tables compare against them: a query that forgot its
tenant filter still sees only the current tenant's rows. On SQLite the settings are a no-op.

Piccolo's nested ``transaction()`` joins the outer one without a savepoint: an error caught by the
caller would leave half of the inner work to be committed (SQLite), or the whole transaction
silently rolled back at COMMIT (PostgreSQL, after a failed statement). A nested scoped transaction
here therefore runs inside a savepoint: if it raises, its own work is undone and the outer
transaction can carry on (or fail) as a whole. Still, never swallow an exception without meaning to.

SQLite (embedded mode) serves many requests from one process through separate connections. Its
default DEFERRED transactions take the write lock only at the first write, and a transaction that
read first and then wants to write is refused at once ("database is locked") when another one is
writing: concurrent sign-ins and edits failed. Scoped transactions therefore start IMMEDIATE (they
queue for the write lock, up to ``SQLITE_BUSY_TIMEOUT`` seconds), and the file runs in WAL mode
so that plain reads are never blocked by a writer.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import unquote

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT = 30.0


def build_engine(database_url: str) -> Engine:
    """Create the Piccolo engine for a ``sqlite:///`` or ``postgresql://`` URL."""
    if database_url.startswith("sqlite:///"):
        # sqlite:///relative/path or sqlite:////absolute/path, as SQLAlchemy spells them.
        path = Path(unquote(database_url[len("sqlite:///") :]))
        path.parent.mkdir(parents=True, exist_ok=True)
        _use_wal(path)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)
    return PostgresEngine(config={"dsn": database_url})


def _use_wal(path: Path) -> None:
    """Switch the file to write-ahead logging (a persistent property of the file, set once)."""
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def get_engine() -> Engine:
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("No Piccolo engine configured: is PICCOLO_CONF set to portal.piccolo_conf?")
    return engine


def is_postgres() -> bool:
    return isinstance(get_engine(), PostgresEngine)


async def _keep_session(connection: object) -> None:
    """Pool reset on release: nothing beyond the rollback of an open transaction asyncpg always does.

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``,
    one more round trip per checkout. The portal never leaves session state behind: tenant settings
    are ``set_config(..., true)`` and advisory locks are ``pg_advisory_xact_lock``, both ending with
    their transaction (tests/core/test_db.py checks a released connection is clean).
    """


async def start_pool() -> bool:
    """Open the PostgreSQL pool; returns False if one was already open (its opener closes it)."""
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=2, max_size=10, reset=_keep_session)
        await warn_if_rls_bypassed()
        return True
    return False


async def rls_bypassed() -> bool:
    """True when the connected PostgreSQL role ignores row-level security (superuser or BYPASSRLS).

    FORCE ROW LEVEL SECURITY binds the table owner, but never a superuser: connected as one, the
    tenant policies silently do nothing.
    """
    if not is_postgres():
        return False
    rows = await execute("SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user")
    return bool(rows and rows[0]["bypass"])


async def warn_if_rls_bypassed() -> None:
    if await rls_bypassed():
        log.warning(
            "PORTAL_DATABASE_URL connects as a PostgreSQL superuser (or a role with BYPASSRLS): row-level "
            "security is NOT enforced. Connect as an ordinary role that owns the tables."
        )


async def close_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def execute(sql: str, *args: object) -> list[dict]:
    """Run raw SQL (``{}`` placeholders) inside the current transaction if there is one.

    Rows are plain dicts on both databases (asyncpg would hand back its own Record objects).
    """
    rows = await get_engine().run_querystring(QueryString(sql, *args))
    return [dict(row) for row in rows] if rows else []


# (tenant_id, all_tenants) of the transaction this task is in; None outside one.
_current_scope: ContextVar[tuple[int | None, bool] | None] = ContextVar("current_scope", default=None)


@asynccontextmanager
async def _scoped_transaction(tenant_id: int | None, all_tenants: bool) -> AsyncIterator[None]:
    engine = get_engine()
    outer = engine.current_transaction.get()
    if outer is not None:
        # Joining an outer transaction keeps the outer scope: a service called from another
        # service runs with the rights its caller already established. Asking for another
        # tenant inside one tenant's transaction would silently read nothing, so it is refused.
        outer_scope = _current_scope.get()
        if tenant_id is not None and outer_scope is not None and outer_scope[0] not in (None, tenant_id):
            raise RuntimeError(
                f"tenant_transaction({tenant_id}) inside tenant_transaction({outer_scope[0]}): "
                "open the outer work with system_transaction() if it spans tenants"
            )
        savepoint = await outer.savepoint()
        try:
            yield
        except Exception:
            await savepoint.rollback_to()
            raise
        await savepoint.release()
        return
    if isinstance(engine, SQLiteEngine):
        transaction = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = engine.transaction()
    async with transaction:
        scope_token = _current_scope.set((tenant_id, all_tenants))
        try:
            if isinstance(engine, PostgresEngine):
                await execute(
                    "SELECT set_config('app.tenant_id', {}, true), set_config('app.all_tenants', {}, true)",
                    "" if tenant_id is None else str(tenant_id),
                    "on" if all_tenants else "off",
                )
            yield
        finally:
            _current_scope.reset(scope_token)


def tenant_transaction(tenant_id: int) -> AsyncIterator[None]:
    """A transaction that may only see and write rows of ``tenant_id`` on tenant-owned tables."""
    return _scoped_transaction(tenant_id, all_tenants=False)


def system_transaction() -> AsyncIterator[None]:
    """A transaction that spans tenants: sign-in, workers, operator and regulator read views."""
    return _scoped_transaction(None, all_tenants=True)
