"""Migrations: they build every table on a fresh SQLite file, and PostgreSQL gets row-level security."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from piccolo.conf.apps import Finder

from portal.core.db import execute
from tests.cli_runner import run_portal

# Tables that carry a tenant id but are read across tenants by design.
SYSTEM_TABLES_WITH_TENANT = {"outbox_message"}  # the mail worker delivers every tenant's mail


def declared_tables() -> dict[str, set[str]]:
    """Every table the feature apps declare, with its columns."""
    return {
        table._meta.tablename: {column._meta.db_column_name for column in table._meta.columns}
        for table in Finder().get_table_classes()
    }


def migrate_fresh_sqlite(tmp_path: Path) -> Path:
    database = tmp_path / "fresh" / "portal.sqlite3"
    env = {"PORTAL_DATABASE_URL": f"sqlite:///{database}", "PORTAL_DATA_DIR": str(tmp_path / "fresh"),
           "PORTAL_STORAGE_URL": f"file://{tmp_path / 'fresh' / 'files'}"}
    result = run_portal("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "Migrations applied." in result.stdout
    again = run_portal("migrate", env=env)
    assert again.returncode == 0, again.stderr
    return database


def test_migrate_builds_every_declared_table_on_a_fresh_sqlite_file(tmp_path):
    database = migrate_fresh_sqlite(tmp_path)

    connection = sqlite3.connect(database)
    try:
        for table, columns in declared_tables().items():
            found = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            assert found == columns, f"{table}: the migrations and tables.py disagree"
        triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"audit_entry_no_update", "audit_entry_no_delete"} <= triggers
        assert connection.execute("SELECT id, last_hash FROM audit_chain_head").fetchall() == [(1, "0" * 64)]
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()
    assert (tmp_path / "fresh" / "files").is_dir()


def test_the_migrated_sqlite_file_refuses_audit_changes(tmp_path):
    database = migrate_fresh_sqlite(tmp_path)
    connection = sqlite3.connect(database)
    try:
        connection.execute(
            "INSERT INTO audit_entry (at, actor_label, action, object_type, object_id, ip, detail, prev_hash,"
            " entry_hash) VALUES ('2026-01-01 00:00:00', 'x', 'a', '', '', '', '{}', '', '')"
        )
        for statement in ("UPDATE audit_entry SET action = 'b'", "DELETE FROM audit_entry"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    finally:
        connection.close()


@pytest.mark.postgres
async def test_postgresql_tables_match_the_declared_columns():
    for table, columns in declared_tables().items():
        rows = await execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = {}",
            table,
        )
        assert {row["column_name"] for row in rows} == columns, f"{table}: the migrations and tables.py disagree"


@pytest.mark.postgres
async def test_every_tenant_owned_table_has_forced_row_level_security():
    tenant_tables = {
        table for table, columns in declared_tables().items()
        if columns & {"tenant", "tenant_id"} and table not in SYSTEM_TABLES_WITH_TENANT
    }
    assert {"membership", "invitation", "api_key", "stored_file", "audit_entry"} <= tenant_tables

    rows = await execute(
        "SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, "
        "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r'"
    )
    state = {row["name"]: row for row in rows}
    missing = sorted(
        table for table in tenant_tables
        if not (state[table]["enabled"] and state[table]["forced"] and state[table]["policies"])
    )
    assert missing == [], f"tenant-owned tables without forced row-level security: {missing}"


@pytest.mark.postgres
async def test_tenant_policies_compare_against_the_transaction_setting():
    rows = await execute(
        "SELECT tablename, qual FROM pg_policies WHERE schemaname = 'public' AND policyname = 'tenant_isolation'"
    )
    policies = {row["tablename"]: row["qual"] for row in rows}
    for table in ("membership", "invitation", "api_key", "stored_file", "audit_entry"):
        assert "app.tenant_id" in policies[table] and "app.all_tenants" in policies[table], table


@pytest.mark.postgres
async def test_postgresql_audit_trigger_is_installed():
    rows = await execute(
        "SELECT tgname FROM pg_trigger "
        "WHERE tgrelid = 'audit_entry'::regclass AND NOT tgisinternal AND tgenabled <> 'D'"
    )
    assert "audit_entry_no_change" in {row["tgname"] for row in rows}
