"""Fixtures of the takedown tests: a hotline with analysts, an agency, ISPs, and helpers."""

from __future__ import annotations

import pytest

from portal.core.actor import Actor
from portal.core.db import execute, system_transaction

ANALYST = Actor(user_id=None, label="analyst@test", ip="127.0.0.1")


@pytest.fixture
async def hotline(factory):
    return await factory.tenant("ngo", slug="hotline", name="Linja e raportimit", is_hotline=True)


@pytest.fixture
async def agency(factory):
    return await factory.tenant("agency", slug="policia", name="Policia e Shtetit")


@pytest.fixture
async def isps(factory):
    return [
        await factory.tenant("isp", slug=f"isp-{n}", name=f"ISP {n}", contact_point_email=f"noc@isp-{n}.test")
        for n in (1, 2, 3)
    ]


async def count(table: str) -> int:
    async with system_transaction():
        rows = await execute(f"SELECT COUNT(*) AS n FROM {table}")
    return rows[0]["n"]


async def audit_actions() -> list[str]:
    async with system_transaction():
        rows = await execute("SELECT action FROM audit_entry ORDER BY id")
    return [row["action"] for row in rows]
