"""Drafting, submitting, freezing, revising and reviewing through the services."""

import pytest

from portal.annual_reports import services
from portal.annual_reports.tables import AnnualReport, AnnualReportReview, AnnualReportRevision
from portal.core.db import execute, system_transaction
from portal.core.errors import Conflict, Forbidden, ValidationFailed
from tests.annual_reports.conftest import NARRATIVE, T0, YEAR, hours, issue, set_times, submitted_report
from tests.code_of_conduct.conftest import actor_of, log


async def state() -> dict:
    async with system_transaction():
        return {
            "reports": await AnnualReport.select(),
            "revisions": await AnnualReportRevision.select(),
            "reviews": await AnnualReportReview.select(),
        }


async def audit_actions() -> list[str]:
    async with system_transaction():
        rows = await execute("SELECT action FROM audit_entry WHERE action LIKE 'annual_report.%' ORDER BY id")
    return [row["action"] for row in rows]


@pytest.mark.parametrize(("current", "target"), [
    ("draft", "submitted"), ("submitted", "under_review"), ("submitted", "returned"), ("submitted", "accepted"),
    ("under_review", "returned"), ("under_review", "accepted"), ("returned", "draft"),
])
def test_legal_transitions(current, target):
    services.check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [
    ("draft", "accepted"), ("draft", "returned"), ("draft", "under_review"), ("submitted", "draft"),
    ("under_review", "draft"), ("under_review", "submitted"), ("returned", "accepted"), ("returned", "submitted"),
    ("accepted", "draft"), ("accepted", "returned"), ("accepted", "submitted"),
])
def test_illegal_transitions(current, target):
    with pytest.raises(Conflict):
        services.check_transition(current, target)


async def test_prefilled_figures(world):
    figures = await services.build_figures(world.isp["id"], YEAR)
    assert [s["version"] for s in figures["signatures"]] == ["2026.1"]
    assert figures["signatures"][0]["hash"] == world.version["content_hash"]
    assert [c["code"] for c in figures["commitments"]] == ["Z1", "Z2", "Z3"]
    [measure] = figures["commitments"][0]["measures"]
    assert measure["indicators"][0]["name"] == "URL të bllokuara" and measure["indicators"][0]["value"] == 1243
    assert figures["commitments"][1]["measures"] == []
    assert figures["contact_point"]["name"] == "Elira Hoxha"
    assert figures["takedown"]["received"] == 0
    # a year before the signature has no commitments
    assert (await services.build_figures(world.isp["id"], YEAR - 1))["commitments"] == []


async def test_full_cycle_with_a_returned_revision(world):
    await services.save_draft(world.isp, YEAR, NARRATIVE, actor_of(world.isp_officer))
    report = await services.organisation_report(world.isp["id"], YEAR)
    assert report["status"] == "draft" and report["current"]["narratives"]["Z1"]["results"] == "1 243 URL të bllokuara."
    report = await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    assert report["status"] == "submitted"
    frozen = report["current"]
    assert frozen["content_hash"] == services.content_hash(frozen["snapshot"])
    assert frozen["snapshot"]["narratives"]["Z2"]["done"] == "Hapëm një formë raportimi në faqe."

    report = await services.start_review(world.akcesk, report["id"], actor_of(world.akcesk_admin))
    assert report["status"] == "under_review"
    report = await services.decide(world.akcesk, report["id"], {
        "revision": "1", "decision": "return", "note": "Plotësoni Z3.", "comment__Z3": "Sa abonentë e përdorin?",
        "comment__Z1": "",
    }, actor_of(world.akcesk_admin))
    assert report["status"] == "returned"
    assert report["last_review"]["comments"] == {"Z3": "Sa abonentë e përdorin?"}
    assert report["last_review"]["reviewer_email"] == world.akcesk_admin.email
    assert report["last_review"]["reviewer_organisation"] == "AKCESK"

    # the organisation edits a new revision; revision 1 stays as it was
    changed = NARRATIVE | {"Z3__done": "Kontroll prindëror falas; 4 100 abonentë e përdorin."}
    report = await services.save_draft(world.isp, YEAR, changed, actor_of(world.isp_officer))
    assert (report["status"], report["revision"]) == ("draft", 2)
    assert services.revision_of(report, 1)["snapshot"] == frozen["snapshot"]
    report = await services.submit(world.isp, YEAR, 2, actor_of(world.isp_admin))
    report = await services.decide(world.akep, report["id"], {"revision": "2", "decision": "accept", "note": ""},
                                   actor_of(world.akep_officer))
    assert report["status"] == "accepted"
    assert [(r["revision_number"], r["decision"], r["reviewer_organisation"]) for r in report["reviews"]] == [
        (1, "return", "AKCESK"), (2, "accept", "AKEP")]
    assert [r["number"] for r in report["revisions"]] == [1, 2]
    assert services.revision_of(report, 2)["snapshot"]["narratives"]["Z3"]["done"].endswith("e përdorin.")
    actions = await audit_actions()
    assert actions.count("annual_report.submitted") == 2
    assert "annual_report.returned" in actions and "annual_report.accepted" in actions
    with pytest.raises(Conflict):
        await services.save_draft(world.isp, YEAR, NARRATIVE, actor_of(world.isp_officer))


async def test_submitted_report_is_frozen_when_data_changes(world, hotline):
    report = await submitted_report(world)
    before = report["current"]
    refs = await issue(hotline, [world.isp["slug"]], 2)
    await set_times(refs[0], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1),
                    actioned=T0 + hours(2))
    await log(world.isp, world.isp_officer, world.version, codes=("Z2",), title="Masë e re pas dorëzimit")
    async with system_transaction():
        await execute("UPDATE tenant SET contact_point_name = 'Emër i ri' WHERE id = {}", world.isp["id"])
    live = await services.build_figures(world.isp["id"], YEAR)
    assert live["takedown"]["received"] == 2 and live["commitments"][1]["measures"]
    after = (await services.organisation_report(world.isp["id"], YEAR))["current"]
    assert after["snapshot"] == before["snapshot"] and after["content_hash"] == before["content_hash"]
    assert after["snapshot"]["figures"]["takedown"]["received"] == 0
    assert after["snapshot"]["figures"]["contact_point"]["name"] == "Elira Hoxha"


async def test_draft_figures_refresh_until_submission(world, hotline):
    await services.save_draft(world.isp, YEAR, NARRATIVE, actor_of(world.isp_officer))
    refs = await issue(hotline, [world.isp["slug"]], 1)
    await set_times(refs[0], world.isp["id"], sent=T0, due=T0 + hours(24))
    report = await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    assert report["current"]["snapshot"]["figures"]["takedown"]["received"] == 1


async def test_empty_required_narrative_changes_nothing(world):
    await services.save_draft(world.isp, YEAR, NARRATIVE | {"Z2__done": "   "}, actor_of(world.isp_officer))
    before = await state()
    with pytest.raises(ValidationFailed) as caught:
        await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    assert set(caught.value.errors) == {"Z2__done"}
    assert "Z2" in caught.value.errors["Z2__done"]
    assert await state() == before


async def test_second_submission_of_the_same_revision_changes_nothing(world):
    await submitted_report(world)
    before = await state()
    with pytest.raises(Conflict):
        await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    assert await state() == before


async def test_review_by_a_non_regulator_changes_nothing(world):
    report = await submitted_report(world)
    before = await state()
    with pytest.raises(Forbidden):
        await services.decide(world.other, report["id"], {"revision": "1", "decision": "accept"},
                              actor_of(world.other_admin))
    with pytest.raises(Forbidden):
        await services.start_review(world.ngo, report["id"], actor_of(world.ngo_admin))
    assert await state() == before


async def test_comment_on_a_nonexistent_section_changes_nothing(world):
    report = await submitted_report(world)
    before = await state()
    with pytest.raises(ValidationFailed) as caught:
        await services.decide(world.akcesk, report["id"], {
            "revision": "1", "decision": "return", "comment__Z9": "Kjo nuk ekziston.", "note": "x",
        }, actor_of(world.akcesk_admin))
    assert "Z9" in caught.value.errors["comment__Z9"]
    assert await state() == before


async def test_decision_needs_a_choice_and_a_reason_to_return(world):
    report = await submitted_report(world)
    with pytest.raises(ValidationFailed) as caught:
        await services.decide(world.akcesk, report["id"], {"revision": "1", "decision": ""}, actor_of(world.akcesk_admin))
    assert "decision" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        await services.decide(world.akcesk, report["id"], {"revision": "1", "decision": "return"},
                              actor_of(world.akcesk_admin))
    assert "note" in caught.value.errors


async def test_decision_on_a_decided_revision_is_refused(world):
    report = await submitted_report(world)
    await services.decide(world.akcesk, report["id"], {"revision": "1", "decision": "accept"},
                          actor_of(world.akcesk_admin))
    before = await state()
    with pytest.raises(Conflict):
        await services.decide(world.akep, report["id"], {"revision": "1", "decision": "return", "note": "x"},
                              actor_of(world.akep_officer))
    assert await state() == before


async def test_queue_statuses_and_overdue(world, factory):
    third = await factory.tenant("isp", slug="third", name="Third ISP")
    await submitted_report(world)
    rows = await services.queue(YEAR, today=services.default_deadline(YEAR))
    by_slug = {r["tenant"]["slug"]: r for r in rows}
    assert by_slug["albanet"]["status"] == "submitted" and not by_slug["albanet"]["overdue"]
    assert by_slug["shqiponja"]["status"] == "not_submitted" and not by_slug["shqiponja"]["overdue"]
    assert "ngo-x" not in by_slug and third["slug"] in by_slug
    late = await services.queue(YEAR, today=services.default_deadline(YEAR).replace(day=1, month=4))
    counts = services.queue_counts(late)
    assert counts["overdue"] == 2 and counts["submitted"] == 1 and counts["not_submitted"] == 2
    assert services.default_deadline(YEAR).isoformat() == f"{YEAR + 1}-03-31"
