"""Fixtures of the annual report tests: two regulators, two ISPs that signed the Code, takedown helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from portal.annual_reports import services
from portal.core.db import execute, system_transaction
from portal.takedown import requests as rq
from tests.code_of_conduct.conftest import actor_of, log, publish, sign, storage_root  # noqa: F401  (fixture)
from tests.takedown.conftest import ANALYST, hotline  # noqa: F401  (fixture)

YEAR = 2026
T0 = datetime(YEAR, 3, 2, 8, 0, tzinfo=UTC)

NARRATIVE = {
    "Z1__done": "Bllokuam çdo URL të listës brenda ditës.", "Z1__results": "1 243 URL të bllokuara.",
    "Z1__difficulties": "", "Z1__plans": "Automatizim i plotë.",
    "Z2__done": "Hapëm një formë raportimi në faqe.", "Z3__done": "Kontroll prindëror falas për çdo abonent.",
}


@dataclass
class World:
    akcesk: dict
    akcesk_admin: object
    akcesk_viewer: object
    akep: dict
    akep_officer: object
    isp: dict
    isp_admin: object
    isp_officer: object
    isp_viewer: object
    other: dict
    other_admin: object
    ngo: dict
    ngo_admin: object
    version: dict


@pytest.fixture
async def world(factory) -> World:
    akcesk = await factory.tenant("regulator", slug="akcesk", name="AKCESK")
    akep = await factory.tenant("regulator", slug="akep", name="AKEP")
    akcesk_admin = await factory.member(akcesk, "admin")
    version = await publish(akcesk, akcesk_admin, "2026.1")
    isp = await factory.tenant(
        "isp", slug="albanet", name="AlbaNet sh.p.k.", contact_point_name="Elira Hoxha",
        contact_point_email="elira@albanet.example", contact_point_phone="+355 69 111 2222",
    )
    other = await factory.tenant("isp", slug="shqiponja", name="Shqiponja sh.a.")
    ngo = await factory.tenant("ngo", slug="ngo-x", name="Qendra Sekrete", is_hotline=True)
    world = World(
        akcesk=akcesk, akcesk_admin=akcesk_admin, akcesk_viewer=await factory.member(akcesk, "viewer"),
        akep=akep, akep_officer=await factory.member(akep, "officer"),
        isp=isp, isp_admin=await factory.member(isp, "admin"), isp_officer=await factory.member(isp, "officer"),
        isp_viewer=await factory.member(isp, "viewer"),
        other=other, other_admin=await factory.member(other, "admin"),
        ngo=ngo, ngo_admin=await factory.member(ngo, "admin"), version=version,
    )
    await sign(isp, world.isp_admin, version)
    await sign(other, world.other_admin, version)
    await log(isp, world.isp_officer, version, codes=("Z1",))
    return world


async def issue(issuer: dict, recipients: list[str], n: int) -> list[str]:
    """``n`` block requests to ``recipients``; returns their references."""
    refs = []
    for i in range(n):
        created = await rq.issue_request(issuer, rq.RequestInput(
            kind="block", recipients=recipients, legal_basis="Ligji 9918", item_ids=[],
            urls=[f"http://shembull-{i}-{len(recipients)}.test/"], category="csam"), ANALYST)
        refs.append(created["reference"])
    return refs


async def set_times(reference: str, recipient_id: int, *, sent: datetime, due: datetime,
                    acknowledged: datetime | None = None, actioned: datetime | None = None) -> None:
    """Place one assignment's timeline at fixed moments, so figures can be checked by hand."""
    async with system_transaction():
        await execute(
            "UPDATE takedown_assignment SET sent_at = {}, due_at = {}, acknowledged_at = {}, actioned_at = {},"
            " status = {}, outcome = {} WHERE recipient = {} AND request = (SELECT id FROM takedown_request"
            " WHERE reference = {})",
            sent, due, acknowledged, actioned,
            "actioned" if actioned else ("acknowledged" if acknowledged else "sent"),
            "blocked" if actioned else "", recipient_id, reference,
        )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


async def submitted_report(world: World, data: dict | None = None) -> dict:
    await services.save_draft(world.isp, YEAR, data or NARRATIVE, actor_of(world.isp_officer))
    return await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
