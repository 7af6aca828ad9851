"""Fixtures for the Code of Conduct tests: a regulator with a published Code, two ISPs, storage per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.code_of_conduct import measures, services
from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.measures import MeasureInput
from portal.core.actor import Actor
from portal.core.db import execute, system_transaction
from portal.core.settings import get_settings
from portal.core.storage import get_storage

# Minimal files whose bytes are what their names say (the storage check looks at content).
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 32
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
CSV_BYTES = "muaji,url_te_bllokuara\n2026-01,120\n2026-02,135\n".encode()

COMMITMENTS = [
    ("Z1", "Bllokimi i URL-ve brenda 24 orëve", "Blocking of listed URLs within 24 hours",
     "Nënshkruesi bllokon URL-të e listuara brenda 24 orëve.", "The signatory blocks listed URLs within 24 hours."),
    ("Z2", "Kanale raportimi", "Reporting channels",
     "Nënshkruesi ofron një kanal raportimi.", "The signatory offers a reporting channel."),
    ("Z3", "Kontroll prindëror", "Parental controls",
     "Nënshkruesi ofron kontroll prindëror falas.", "The signatory offers free parental controls."),
]


def actor_of(member, ip: str = "198.51.100.7") -> Actor:
    return Actor(user_id=member.user["id"], label=member.email, ip=ip)


def version_input(label: str, **changes) -> dict:
    return {
        "label": label, "title_sq": "Kodi i Sjelljes për Sigurinë në Internet", "title_en": "Code of Conduct for Internet Safety",
        "body_sq": "Hyrje e Kodit.", "body_en": "Preamble of the Code.", **changes,
    }


def commitment_input(code, title_sq, title_en, text_sq, text_en, position="") -> dict:
    return {"code": code, "title_sq": title_sq, "title_en": title_en, "text_sq": text_sq, "text_en": text_en,
            "position": str(position)}


async def publish(regulator: dict, admin, label: str, commitments=COMMITMENTS, *, copy_current: bool = False) -> dict:
    """Draft and publish a version through the services; returns it with its commitments."""
    actor = actor_of(admin)
    draft = await services.create_draft(regulator, version_input(label), actor, copy_current=copy_current)
    if not copy_current:
        for position, row in enumerate(commitments, start=1):
            await services.add_commitment(regulator, draft["id"], commitment_input(*row, position=position), actor)
    await services.publish_version(regulator, draft["id"], actor, confirmed=True)
    return await services.get_version(draft["id"], include_drafts=True)


async def sign(tenant: dict, admin, version: dict, name: str = "Arta Leka", pdf: Upload | None = None) -> dict:
    return await services.sign_version(
        tenant, version_id=version["id"], shown_hash=version["content_hash"], signatory_name=name,
        signatory_title="Drejtore Ekzekutive", confirmed=True, signed_pdf=pdf, actor=actor_of(admin),
    )


def measure_input(version: dict, codes=("Z1",), **changes) -> MeasureInput:
    ids = [str(c["id"]) for c in version["commitments"] if c["code"] in codes]
    values = {
        "title": "Bllokimi automatik i listës së URL-ve", "description": "Lista zbatohet çdo orë në DNS.",
        "category": "filtering", "status": "in_progress", "start_date": "2026-02-10", "end_date": "2026-03-31",
        "commitment_ids": ids, "indicators": [("URL të bllokuara", "1243"), ("Koha mesatare (orë)", "5,5")],
    }
    values.update(changes)
    return MeasureInput(**values)


async def log(tenant: dict, member, version: dict, evidence: list[Upload] | None = None, **changes) -> dict:
    return await measures.create_measure(tenant, measure_input(version, **changes), evidence or [], actor_of(member))


@dataclass
class World:
    regulator: dict
    reg_admin: object
    reg_officer: object
    reg_viewer: object
    isp: dict
    isp_admin: object
    isp_officer: object
    isp_viewer: object
    other: dict
    other_admin: object
    other_officer: object
    version: dict


@pytest.fixture
async def world(factory) -> World:
    regulator = await factory.tenant("regulator", slug="akcesk-test", name="AKCESK Test")
    isp = await factory.tenant("isp", slug="albanet-test", name="AlbaNet Test sh.p.k.")
    other = await factory.tenant("isp", slug="shqiponja-test", name="Shqiponja Test sh.a.")
    reg_admin = await factory.member(regulator, "admin")
    version = await publish(regulator, reg_admin, "2026.1")
    return World(
        regulator=regulator, reg_admin=reg_admin, reg_officer=await factory.member(regulator, "officer"),
        reg_viewer=await factory.member(regulator, "viewer"),
        isp=isp, isp_admin=await factory.member(isp, "admin"), isp_officer=await factory.member(isp, "officer"),
        isp_viewer=await factory.member(isp, "viewer"),
        other=other, other_admin=await factory.member(other, "admin"), other_officer=await factory.member(other, "officer"),
        version=version,
    )


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


WATCHED = (
    "coc_version", "coc_commitment", "coc_signature", "coc_measure", "coc_measure_commitment", "coc_measure_revision",
    "coc_measure_evidence", "stored_file", "audit_entry", "outbox_message",
)


async def snapshot() -> dict[str, list[dict]]:
    """Every row of the tables a Code of Conduct action could change: compare before and after a refusal."""
    async with system_transaction():
        state = {table: [dict(row) for row in await execute(f"SELECT * FROM {table} ORDER BY id")] for table in WATCHED}
    # Signing in is audited too; a refused Code of Conduct action must add nothing else.
    state["audit_entry"] = [row for row in state["audit_entry"] if not row["action"].startswith("auth.")]
    return state


async def audit_actions(tenant_id: int, prefix: str = "coc.") -> list[str]:
    async with system_transaction():
        rows = await execute(
            "SELECT action FROM audit_entry WHERE tenant_id = {} AND action LIKE {} ORDER BY id", tenant_id, prefix + "%"
        )
    return [row["action"] for row in rows]
