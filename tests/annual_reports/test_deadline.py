"""The configurable submission deadline: default, set by a regulator admin, followed by the queue, pages and reminders."""

from datetime import UTC, date, datetime

from portal.annual_reports import reminders, services
from portal.core.db import execute, system_transaction
from tests.annual_reports.conftest import YEAR
from tests.code_of_conduct.conftest import actor_of

QUEUE = "/t/akcesk/annual-report-reviews"
CHOSEN = date(YEAR + 1, 4, 30)


async def audit_entries(tenant_id: int) -> list[dict]:
    async with system_transaction():
        return await execute("SELECT detail FROM audit_entry WHERE tenant_id = {} AND action = 'annual_report.deadline_set'",
                             tenant_id)


async def test_default_is_31_march_of_the_next_year(world):
    assert await services.deadline_of(YEAR) == date(YEAR + 1, 3, 31) == services.default_deadline(YEAR)
    assert await services.deadlines([YEAR, YEAR - 1]) == {YEAR: date(YEAR + 1, 3, 31), YEAR - 1: date(YEAR, 3, 31)}


async def test_a_regulator_admin_sets_the_deadline_and_everything_follows(world, client_factory):
    admin = await client_factory(world.akcesk_admin)
    page = await admin.get(f"{QUEUE}?year={YEAR}")
    assert f'value="{YEAR + 1}-03-31"' in page.text and f'action="{QUEUE}/deadline"' in page.text
    saved = await admin.post(f"{QUEUE}/deadline", {"year": str(YEAR), "deadline": CHOSEN.isoformat()})
    assert saved.status_code == 303
    assert await services.deadline_of(YEAR) == CHOSEN
    assert await services.deadline_of(YEAR - 1) == date(YEAR, 3, 31)  # other years keep the default
    [entry] = await audit_entries(world.akcesk["id"])
    assert f"{YEAR + 1}-03-31" in str(entry["detail"]) and CHOSEN.isoformat() in str(entry["detail"])
    assert f"30 pri {YEAR + 1}" in (await admin.get(f"{QUEUE}?year={YEAR}")).text

    # the queue's overdue status follows the new date
    between = date(YEAR + 1, 4, 15)
    assert not any(r["overdue"] for r in await services.queue(YEAR, today=between))
    assert all(r["overdue"] for r in await services.queue(YEAR, today=date(YEAR + 1, 5, 1)))

    # the ISP's page shows it, and a report started now carries it
    isp = await client_factory(world.isp_admin)
    assert f"30 pri {YEAR + 1}" in (await isp.get(f"/t/albanet/annual-reports/{YEAR}")).text
    report = await services.save_draft(world.isp, YEAR, {}, actor_of(world.isp_officer))
    assert report["deadline"] == CHOSEN
    # changing it again updates the reports of the year too
    await services.set_deadline(world.akcesk, "admin", YEAR, f"{YEAR + 1}-05-15", actor_of(world.akcesk_admin))
    assert (await services.organisation_report(world.isp["id"], YEAR))["deadline"] == date(YEAR + 1, 5, 15)


async def test_only_regulator_admins_may_set_it_and_bad_dates_are_refused(world, client_factory):
    form = {"year": str(YEAR), "deadline": CHOSEN.isoformat()}
    officer = await client_factory(world.akep_officer)
    assert f'action="{"/t/akep/annual-report-reviews"}/deadline"' not in (await officer.get("/t/akep/annual-report-reviews")).text
    assert (await officer.post("/t/akep/annual-report-reviews/deadline", form)).status_code == 403
    viewer = await client_factory(world.akcesk_viewer)
    assert (await viewer.post(f"{QUEUE}/deadline", form)).status_code == 403
    isp = await client_factory(world.isp_admin)
    assert (await isp.post("/t/albanet/annual-report-reviews/deadline", form)).status_code == 403
    assert (await isp.post(f"{QUEUE}/deadline", form)).status_code == 404
    admin = await client_factory(world.akcesk_admin)
    bad = await admin.post(f"{QUEUE}/deadline", {"year": str(YEAR), "deadline": "nesër"})
    assert bad.status_code == 422 and "Shkruani afatin si datë." in bad.text and 'value="nesër"' in bad.text
    late = await admin.post(f"{QUEUE}/deadline", {"year": str(YEAR), "deadline": f"{YEAR + 2}-01-10"})
    assert late.status_code == 422 and str(YEAR + 1) in late.text
    assert await services.deadline_of(YEAR) == date(YEAR + 1, 3, 31) and await audit_entries(world.akcesk["id"]) == []


async def test_reminders_follow_the_deadline(world):
    async with system_transaction():
        await execute("UPDATE coc_signature SET signed_at = {}", datetime(YEAR, 2, 1, 9, 0, tzinfo=UTC))
        await execute("DELETE FROM outbox_message")
    today = date(YEAR + 1, 4, 2)  # past the default deadline
    await services.set_deadline(world.akcesk, "admin", YEAR, CHOSEN.isoformat(), actor_of(world.akcesk_admin))
    assert await reminders.check_annual_report_reminders(today=date(YEAR + 1, 3, 20)) == 0  # 41 days before: nothing
    assert await reminders.check_annual_report_reminders(today=today) == 2  # 28 days before the new deadline
    async with system_transaction():
        kinds = {r["kind"] for r in await execute("SELECT kind FROM annual_report_reminder")}
        [mail] = await execute("SELECT body_text FROM outbox_message WHERE to_address = {}", world.isp_admin.email)
    assert kinds == {reminders.DUE_30} and "30 prill" in mail["body_text"]
