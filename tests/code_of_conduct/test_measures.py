"""Logging measures against commitments, editing with history, evidence, soft delete and the views."""

from datetime import date

import pytest

from portal.code_of_conduct import measures, services
from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.measures import MeasureFilters, parse_number
from portal.core.errors import NotFound, ValidationFailed
from tests.code_of_conduct.conftest import (
    CSV_BYTES,
    EXE_BYTES,
    PDF_BYTES,
    actor_of,
    audit_actions,
    log,
    measure_input,
    publish,
    sign,
    snapshot,
    stored_objects,
)


@pytest.fixture
async def signed(world):
    await sign(world.isp, world.isp_admin, world.version)
    await sign(world.other, world.other_admin, world.version)
    return world


async def test_logging_a_measure_with_indicators_and_evidence(signed, storage_root):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version, codes=("Z1", "Z3"),
                        evidence=[Upload("raport-bllokimi.csv", CSV_BYTES), Upload("foto.pdf", PDF_BYTES)])
    measure = await measures.get_measure(world.isp["id"], created["id"])
    assert measure["version"] == world.version["id"]
    assert [c["code"] for c in measure["commitments"]] == ["Z1", "Z3"]
    assert measure["indicators"] == [{"name": "URL të bllokuara", "value": 1243}, {"name": "Koha mesatare (orë)", "value": 5.5}]
    assert measure["start_date"] == date(2026, 2, 10) and measure["end_date"] == date(2026, 3, 31)
    assert [e["filename"] for e in measure["evidence"]] == ["raport-bllokimi.csv", "foto.pdf"]
    assert len(stored_objects(storage_root)) == 2
    assert [h["action"] for h in measure["history"]] == ["created"]
    assert {c["field"] for c in measure["history"][0]["changes"]} >= {"title", "commitments", "indicators", "evidence"}
    assert await audit_actions(world.isp["id"]) == ["coc.signed", "coc.measure_created"]


async def test_unsigned_organisations_cannot_log(world):
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await log(world.isp, world.isp_officer, world.version)
    assert "form" in refused.value.errors
    assert await snapshot() == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": "  "}, "title"),
        ({"category": "marketing"}, "category"),
        ({"status": "cancelled"}, "status"),
        ({"start_date": ""}, "start_date"),
        ({"start_date": "10.02.2026"}, "start_date"),
        ({"end_date": "2026-02-01"}, "end_date"),
        ({"commitment_ids": []}, "commitments"),
        ({"commitment_ids": ["abc"]}, "commitments"),
        ({"indicators": [("", "12")]}, "indicators"),
        ({"indicators": [("Staf i trajnuar", "")]}, "indicators"),
        ({"indicators": [("Staf i trajnuar", "dymbëdhjetë")]}, "indicators"),
        ({"indicators": [("Staf i trajnuar", "-3")]}, "indicators"),
        ({"indicators": [("Staf", "1"), ("staf", "2")]}, "indicators"),
        ({"indicators": [("Staf", "1e400")]}, "indicators"),
    ],
)
async def test_bad_measure_input_changes_nothing(signed, storage_root, changes, field):
    world = signed
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await measures.create_measure(
            world.isp, measure_input(world.version, **changes), [Upload("a.csv", CSV_BYTES)], actor_of(world.isp_officer)
        )
    assert field in refused.value.errors
    assert await snapshot() == before
    assert stored_objects(storage_root) == []


async def test_a_commitment_of_another_version_is_refused(signed):
    world = signed
    newer = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    foreign = [str(newer["commitments"][0]["id"])]
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await log(world.isp, world.isp_officer, world.version, commitment_ids=foreign)
    assert "2026.1" in refused.value.errors["commitments"]
    assert await snapshot() == before


@pytest.mark.parametrize(
    "upload",
    [Upload("program.pdf", EXE_BYTES), Upload("faqe.html", b"<html><script>alert(1)</script></html>")],
)
async def test_evidence_of_a_disallowed_type_is_refused(signed, storage_root, upload):
    world = signed
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await log(world.isp, world.isp_officer, world.version, evidence=[upload])
    assert upload.filename in refused.value.errors["evidence"]
    assert await snapshot() == before
    assert stored_objects(storage_root) == []


async def test_evidence_over_the_size_limit_is_refused(signed, storage_root, monkeypatch):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version)
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", "2048")
    from portal.core.settings import get_settings

    get_settings.cache_clear()
    big = Upload("raport.pdf", PDF_BYTES + b"0" * 4096)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await measures.add_evidence(world.isp, created["id"], [big], actor_of(world.isp_officer))
    assert "MB" in refused.value.errors["evidence"]
    assert await snapshot() == before
    assert stored_objects(storage_root) == []


async def test_editing_keeps_who_changed_what_and_when(signed):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version)
    data = measure_input(world.version, codes=("Z1", "Z2"), status="done", indicators=[("URL të bllokuara", "1300")])
    changes = await measures.update_measure(world.isp, created["id"], data, actor_of(world.isp_admin))
    assert {c["field"]: (c["before"], c["after"]) for c in changes} == {
        "status": ("in_progress", "done"),
        "indicators": ("URL të bllokuara: 1243; Koha mesatare (orë): 5.5", "URL të bllokuara: 1300"),
        "commitments": ("Z1", "Z1, Z2"),
    }
    measure = await measures.get_measure(world.isp["id"], created["id"])
    assert [h["action"] for h in measure["history"]] == ["edited", "created"]
    assert measure["history"][0]["changed_by_email"] == world.isp_admin.email
    assert [c["code"] for c in measure["commitments"]] == ["Z1", "Z2"]
    # Saving the same values again records nothing.
    before = await snapshot()
    assert await measures.update_measure(world.isp, created["id"], data, actor_of(world.isp_admin)) == []
    assert await snapshot() == before


async def test_bad_edit_changes_nothing(signed):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await measures.update_measure(
            world.isp, created["id"], measure_input(world.version, start_date="2026-05-01", end_date="2026-04-01"),
            actor_of(world.isp_officer),
        )
    assert "end_date" in refused.value.errors
    assert await snapshot() == before


async def test_soft_delete_hides_from_the_organisation_but_not_from_regulators(signed):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version)
    kept = await log(world.isp, world.isp_officer, world.version, title="Trajnim i stafit", category="staff_training")
    with pytest.raises(ValidationFailed):
        await measures.delete_measure(world.isp, created["id"], "", actor_of(world.isp_officer))
    await measures.delete_measure(world.isp, created["id"], "U regjistrua dy herë", actor_of(world.isp_officer))
    own = await measures.tenant_measures(world.isp["id"], MeasureFilters())
    assert [m["id"] for m in own] == [kept["id"]]
    deleted = await measures.tenant_measures(world.isp["id"], MeasureFilters(status="deleted"))
    assert [m["id"] for m in deleted] == [created["id"]]
    everyone = {m["id"]: m for m in await measures.all_measures(MeasureFilters())}
    assert everyone[created["id"]]["deletion_reason"] == "U regjistrua dy herë"
    assert everyone[created["id"]]["deleted_at"] is not None
    with pytest.raises(ValidationFailed):
        await measures.update_measure(world.isp, created["id"], measure_input(world.version), actor_of(world.isp_officer))
    with pytest.raises(ValidationFailed):
        await measures.delete_measure(world.isp, created["id"], "Përsëri", actor_of(world.isp_officer))
    assert "coc.measure_deleted" in await audit_actions(world.isp["id"])


async def test_other_organisations_measures_are_not_found(signed):
    world = signed
    created = await log(world.isp, world.isp_officer, world.version)
    with pytest.raises(NotFound):
        await measures.get_measure(world.other["id"], created["id"])
    with pytest.raises(NotFound):
        await measures.update_measure(world.other, created["id"], measure_input(world.version), actor_of(world.other_officer))
    with pytest.raises(NotFound):
        await measures.delete_measure(world.other, created["id"], "x", actor_of(world.other_officer))
    assert await measures.tenant_measures(world.other["id"], MeasureFilters()) == []


async def test_views_per_commitment_and_year_and_regulator_filters(signed):
    world = signed
    z1 = next(c for c in world.version["commitments"] if c["code"] == "Z1")
    await log(world.isp, world.isp_officer, world.version, codes=("Z1",), start_date="2025-11-01", end_date="2026-01-31")
    await log(world.isp, world.isp_officer, world.version, codes=("Z1", "Z2"), start_date="2026-03-01", end_date="",
              title="Kanali i raportimit", category="reporting_channel")
    await log(world.other, world.other_officer, world.version, codes=("Z3",), start_date="2024-05-01",
              end_date="2024-06-01", title="Kontroll prindëror", category="parental_controls")
    rows = await measures.tenant_measures(world.isp["id"], MeasureFilters())
    summary = measures.summary_by_commitment(rows)
    this_year = date.today().year
    assert summary["years"] == list(range(2025, max(2026, this_year) + 1))
    by_code = {r["commitment"]["code"]: r for r in summary["rows"]}
    assert by_code["Z1"]["total"] == 2 and by_code["Z1"]["years"][2025] == 1 and by_code["Z1"]["years"][2026] == 2
    assert by_code["Z2"]["total"] == 1 and 2025 not in by_code["Z2"]["years"]
    in_2025 = await measures.tenant_measures(world.isp["id"], MeasureFilters(year=2025, commitment=str(z1["id"])))
    assert [m["start_date"] for m in in_2025] == [date(2025, 11, 1)]
    # Regulators filter every signatory's measures by commitment code, category and year.
    assert len(await measures.all_measures(MeasureFilters(commitment="Z1"))) == 2
    assert [m["tenant_name"] for m in await measures.all_measures(MeasureFilters(category="parental_controls"))] == [
        "Shqiponja Test sh.a."
    ]
    assert [m["title"] for m in await measures.all_measures(MeasureFilters(year=2024))] == ["Kontroll prindëror"]
    assert len(await measures.all_measures(MeasureFilters(tenant=world.other["id"]))) == 1
    assert MeasureFilters.from_query({"year": "1850", "category": "x", "status": "gone"}) == MeasureFilters()


def test_numbers_are_read_the_way_people_type_them():
    assert parse_number("1 243") == 1243
    assert parse_number("5,5") == 5.5
    assert parse_number("5.50") == 5.5
    assert parse_number("12") == 12 and isinstance(parse_number("12.0"), int)
    assert parse_number("NaN") is None and parse_number("dy") is None and parse_number("1e400") is not None


async def test_measures_keep_the_version_after_re_signing(signed):
    world = signed
    old = await log(world.isp, world.isp_officer, world.version)
    newer = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    # Until the organisation signs 2027.1, new measures still point at 2026.1.
    version, commitments = await measures.signed_version_for_measures(world.isp["id"])
    assert version["id"] == world.version["id"]
    await sign(world.isp, world.isp_admin, newer)
    version, commitments = await measures.signed_version_for_measures(world.isp["id"])
    assert version["id"] == newer["id"]
    fresh = await log(world.isp, world.isp_officer, newer)
    assert (await measures.get_measure(world.isp["id"], old["id"]))["version"] == world.version["id"]
    assert (await measures.get_measure(world.isp["id"], fresh["id"]))["version"] == newer["id"]
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_current"
