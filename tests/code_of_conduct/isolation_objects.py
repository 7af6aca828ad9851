"""Code of Conduct objects of tenant A for tests/test_isolation_all_routes.py (see its docstring)."""

from __future__ import annotations

from portal.code_of_conduct import measures
from portal.code_of_conduct.files import Upload
from tests.code_of_conduct.conftest import PDF_BYTES, log, publish, sign

SIGNATORY = "Drita Nënshkruesja Sekrete"
MEASURE_TITLE = "Masa sekrete e organizatës A"
EVIDENCE_NAME = "deshmi-sekrete-e-A.csv"
EVIDENCE_CONTENT = "rreshti,sekret\n1,Permbajtje e deshmise se A\n"


async def _version_id(world) -> object:
    """A published Code (by a regulator of its own), which tenant A then signs."""
    regulator = await world.factory.tenant("regulator", slug="coc-isolation-regulator", name="Rregullatori i Kodit")
    admin = await world.factory.member(regulator, "admin", email="admin@coc-isolation.example")
    version = await publish(regulator, admin, "2026.9")
    world.object_ids["_coc_version"] = version
    return version["id"]


async def _commitment_id(world) -> object:
    await world.ensure("version_id")
    return world.object_ids["_coc_version"]["commitments"][0]["id"]


async def _signature_id(world) -> object:
    await world.ensure("version_id")
    signature = await sign(
        world.tenant, world.admin, world.object_ids["_coc_version"], name=SIGNATORY,
        pdf=Upload("kodi-i-nenshkruar-sekret.pdf", PDF_BYTES),
    )
    world.secrets += [SIGNATORY, "kodi-i-nenshkruar-sekret.pdf"]
    return signature["id"]


async def _measure_id(world) -> object:
    await world.ensure("signature_id")
    created = await log(
        world.tenant, world.admin, world.object_ids["_coc_version"], title=MEASURE_TITLE,
        description="Pershkrim sekret i mases", evidence=[Upload(EVIDENCE_NAME, EVIDENCE_CONTENT.encode())],
    )
    world.secrets += [MEASURE_TITLE, "Pershkrim sekret i mases", EVIDENCE_NAME, "Permbajtje e deshmise se A"]
    return created["id"]


async def _evidence_id(world) -> object:
    measure_id = await world.ensure("measure_id")
    measure = await measures.get_measure(world.tenant["id"], measure_id, with_history=False)
    return measure["evidence"][0]["id"]


async def _organisation_id(world) -> object:
    # the regulators' registry page of one organisation, tried with A itself
    await world.ensure("signature_id")
    return world.tenant["id"]


OBJECT_BUILDERS = {
    "version_id": _version_id,
    "commitment_id": _commitment_id,
    "signature_id": _signature_id,
    "measure_id": _measure_id,
    "evidence_id": _evidence_id,
    "organisation_id": _organisation_id,
}

