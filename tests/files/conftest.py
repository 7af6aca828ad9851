"""Fixtures for the Documents tests: a private storage folder per test, and database look-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.core.db import execute, system_transaction
from portal.core.settings import get_settings
from portal.core.storage import get_storage


@pytest.fixture(autouse=True)
def storage_root(tmp_path, monkeypatch) -> Path:
    """Each test stores into its own empty folder, so "nothing was stored" can be checked exactly."""
    root = tmp_path / "storage"
    monkeypatch.setenv("PORTAL_STORAGE_URL", f"file://{root}")
    get_settings.cache_clear()
    get_storage.cache_clear()
    yield root
    get_storage.cache_clear()
    get_settings.cache_clear()


def stored_objects(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def file_rows(tenant_id: int | None = None) -> list[dict]:
    async with system_transaction():
        if tenant_id is None:
            return await execute("SELECT * FROM stored_file ORDER BY id")
        return await execute("SELECT * FROM stored_file WHERE tenant = {} ORDER BY id", tenant_id)


async def audit_entries(tenant_id: int, action_prefix: str = "file.") -> list[dict]:
    async with system_transaction():
        return await execute(
            "SELECT action, object_id, actor_label, detail FROM audit_entry"
            " WHERE tenant_id = {} AND action LIKE {} ORDER BY id",
            tenant_id, action_prefix + "%",
        )
