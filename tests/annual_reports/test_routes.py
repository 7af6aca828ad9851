"""Pages of the annual report: three-way access on every route, the full cycle, bad input through forms."""

from portal.annual_reports import services
from tests.annual_reports.conftest import NARRATIVE, YEAR, submitted_report
from tests.annual_reports.test_lifecycle import state
from tests.isolation import assert_outsider_gets_nothing

SECRET = "Bllokuam çdo URL të listës brenda ditës."


async def test_organisation_pages_three_ways(world, client_factory):
    officer = await client_factory(world.isp_officer)
    viewer = await client_factory(world.isp_viewer)
    admin = await client_factory(world.isp_admin)
    outsider = await client_factory(world.other_admin)
    ngo = await client_factory(world.ngo_admin)
    base = "/t/albanet/annual-reports"

    assert (await viewer.get(base)).status_code == 200
    assert (await ngo.get("/t/ngo-x/annual-reports")).status_code == 403
    await assert_outsider_gets_nothing(outsider, "GET", base, ["AlbaNet"])

    page = await viewer.get(f"{base}/{YEAR}")
    assert page.status_code == 200 and "Elira Hoxha" in page.text and "Z1" in page.text
    assert (await ngo.get(f"/t/ngo-x/annual-reports/{YEAR}")).status_code == 403
    await assert_outsider_gets_nothing(outsider, "GET", f"{base}/{YEAR}", ["Elira Hoxha"])

    assert (await viewer.post(f"{base}/{YEAR}", NARRATIVE)).status_code == 403
    await assert_outsider_gets_nothing(outsider, "POST", f"{base}/{YEAR}", ["AlbaNet"], NARRATIVE)
    saved = await officer.post(f"{base}/{YEAR}", NARRATIVE)
    assert saved.status_code == 303
    assert SECRET in (await viewer.get(f"{base}/{YEAR}")).text
    # the other ISP opens its own report of the same year and sees none of it
    own = await outsider.get(f"/t/shqiponja/annual-reports/{YEAR}")
    assert own.status_code == 200 and SECRET not in own.text and "Elira Hoxha" not in own.text

    assert (await officer.post(f"{base}/{YEAR}/submit", {"revision": "1"})).status_code == 403
    await assert_outsider_gets_nothing(outsider, "POST", f"{base}/{YEAR}/submit", [SECRET], {"revision": "1"})
    submitted = await admin.post(f"{base}/{YEAR}/submit", {"revision": "1"})
    assert submitted.status_code == 303
    report = await services.organisation_report(world.isp["id"], YEAR)
    assert report["status"] == "submitted"

    revision = await viewer.get(f"{base}/{YEAR}/revisions/1")
    assert revision.status_code == 200 and SECRET in revision.text and report["current"]["content_hash"] in revision.text
    assert (await ngo.get(f"/t/ngo-x/annual-reports/{YEAR}/revisions/1")).status_code == 403
    await assert_outsider_gets_nothing(outsider, "GET", f"{base}/{YEAR}/revisions/1", [SECRET])
    assert (await viewer.get(f"{base}/{YEAR}/revisions/2")).status_code == 404
    assert (await viewer.get(f"{base}/{YEAR + 5}")).status_code == 404


async def test_regulator_pages_three_ways(world, client_factory):
    report = await submitted_report(world)
    akcesk_viewer = await client_factory(world.akcesk_viewer)
    akcesk_admin = await client_factory(world.akcesk_admin)
    akep = await client_factory(world.akep_officer)
    isp = await client_factory(world.isp_admin)
    base = "/t/akcesk/annual-report-reviews"
    review = f"{base}/{report['id']}"

    queue = await akcesk_viewer.get(f"{base}?year={YEAR}")
    assert queue.status_code == 200 and "AlbaNet" in queue.text and "Shqiponja" in queue.text
    assert (await isp.get("/t/albanet/annual-report-reviews")).status_code == 403
    await assert_outsider_gets_nothing(isp, "GET", base, [SECRET, "Shqiponja"])

    detail = await akep.get(f"/t/akep/annual-report-reviews/{report['id']}")
    assert detail.status_code == 200 and SECRET in detail.text
    assert (await isp.get(f"/t/albanet/annual-report-reviews/{report['id']}")).status_code == 403
    await assert_outsider_gets_nothing(isp, "GET", review, [SECRET, "Shqiponja"])

    ngo = await client_factory(world.ngo_admin)
    refused = await ngo.post(f"/t/ngo-x/annual-report-reviews/{report['id']}/decision", {"revision": "1", "decision": "accept"})
    assert refused.status_code == 403 and "nuk e lejon" in refused.text
    assert (await services.any_report(report["id"]))["status"] == "submitted"
    assert (await akcesk_viewer.post(f"{review}/start")).status_code == 403
    await assert_outsider_gets_nothing(isp, "POST", f"{review}/start", [SECRET, "Shqiponja"])
    assert (await akcesk_admin.post(f"{review}/start")).status_code == 303
    assert (await services.any_report(report["id"]))["status"] == "under_review"

    decision = {"revision": "1", "decision": "return", "note": "Shtoni shifra.", "comment__Z2": "Ku është forma?"}
    assert (await akcesk_viewer.post(f"{review}/decision", decision)).status_code == 403
    await assert_outsider_gets_nothing(isp, "POST", f"{review}/decision", [SECRET, "Shqiponja"], decision)
    assert (await akep.post(f"/t/akep/annual-report-reviews/{report['id']}/decision", decision)).status_code == 303
    assert (await services.any_report(report["id"]))["status"] == "returned"

    frozen = await akcesk_viewer.get(f"{review}/revisions/1")
    assert frozen.status_code == 200 and "Ku është forma?" in frozen.text
    assert (await isp.get(f"/t/albanet/annual-report-reviews/{report['id']}/revisions/1")).status_code == 403
    await assert_outsider_gets_nothing(isp, "GET", f"{review}/revisions/1", [SECRET, "Shqiponja"])

    # the organisation sees the comment next to the section and who reviewed it
    mine = await isp.get(f"/t/albanet/annual-reports/{YEAR}")
    assert "Ku është forma?" in mine.text and "Shtoni shifra." in mine.text and world.akep_officer.email in mine.text


async def test_regulators_never_see_an_unsubmitted_draft(world, client_factory):
    report = await services.save_draft(world.isp, YEAR, NARRATIVE, __import__(
        "tests.code_of_conduct.conftest", fromlist=["actor_of"]).actor_of(world.isp_officer))
    regulator = await client_factory(world.akcesk_viewer)
    response = await regulator.get(f"/t/akcesk/annual-report-reviews/{report['id']}")
    assert response.status_code == 404 and SECRET not in response.text
    assert (await regulator.get(f"/t/akcesk/annual-report-reviews/{report['id']}/revisions/1")).status_code == 404


async def test_bad_input_through_the_forms_changes_nothing(world, client_factory):
    admin = await client_factory(world.isp_admin)
    base = f"/t/albanet/annual-reports/{YEAR}"
    assert (await admin.post(base, NARRATIVE | {"Z1__done": ""})).status_code == 303
    before = await state()
    refused = await admin.post(f"{base}/submit", {"revision": "1"})
    assert refused.status_code == 422 and 'id="f-Z1__done"' in refused.text
    assert "Përshkruani çfarë u bë për angazhimin Z1." in refused.text
    assert await state() == before

    await admin.post(base, NARRATIVE)
    assert (await admin.post(f"{base}/submit", {"revision": "1"})).status_code == 303
    before = await state()
    again = await admin.post(f"{base}/submit", {"revision": "1"}, follow_redirects=True)
    assert again.status_code == 200 and "Ky rishikim është dorëzuar tashmë" in again.text
    assert await state() == before
    edited = await admin.post(base, NARRATIVE | {"Z1__done": "Ndryshim pas dorëzimit"}, follow_redirects=True)
    assert "Ky raport është dorëzuar dhe nuk mund të ndryshohet më." in edited.text
    assert await state() == before

    report = await services.organisation_report(world.isp["id"], YEAR)
    regulator = await client_factory(world.akcesk_admin)
    nonexistent = await regulator.post(f"/t/akcesk/annual-report-reviews/{report['id']}/decision",
                                       {"revision": "1", "decision": "return", "note": "x", "comment__Z9": "?"})
    assert nonexistent.status_code == 422 and "Ky raport nuk ka seksion „Z9”." in nonexistent.text
    assert await state() == before


async def test_an_unsubmitted_report_past_its_deadline_says_so(world, client_factory):
    viewer = await client_factory(world.isp_viewer)
    page = await viewer.get("/t/albanet/annual-reports/2019")
    assert page.status_code == 200 and "Afati 31 mar 2020 ka kaluar" in page.text.replace("\xa0", " ")
    assert "nuk kishte nënshkrim të Kodit të Sjelljes në fuqi këtë vit" in page.text
