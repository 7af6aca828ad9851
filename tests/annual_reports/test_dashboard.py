"""The regulators' compliance dashboard: figures per year, charts with their tables, both languages."""

from datetime import date

from portal.annual_reports import charts, dashboard
from tests.annual_reports.conftest import T0, YEAR, hours, issue, set_times, submitted_report


def test_charts_escape_labels_and_scale():
    svg = str(charts.hbar("Koha <deri> në zbatim", [("ISP <b>", 10.0, 30.0), ("Tjetër", None, None)],
                          references=[("24 h", 24)]))
    assert "<b>" not in svg and "ISP &lt;b&gt;" in svg and "Koha &lt;deri&gt; në zbatim" in svg
    assert svg.count("<rect") == 2 and 'stroke-dasharray' in svg
    columns = str(charts.columns("Raportet", [("Dorëzuar", 3), ("Pranuar", 0)]))
    assert ">3<" in columns and columns.startswith("<svg")


async def test_year_figures(world, hotline):
    await submitted_report(world)
    refs = await issue(hotline, [world.isp["slug"]], 2)
    await set_times(refs[0], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(6))
    await set_times(refs[1], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(2), actioned=T0 + hours(50))
    data = await dashboard.year_data(YEAR, today=date(YEAR + 1, 4, 1))
    assert data.has_data
    assert data.counts["submitted"] == 1 and data.counts["not_submitted"] == 1 and data.counts["overdue"] == 1
    assert data.signatories[-1]["count"] == 2  # both ISPs signed this year and never withdrew
    mine = next(t for t in data.takedown if t["tenant"]["id"] == world.isp["id"])
    assert (mine["received"], mine["median_hours_to_action"], mine["p90_hours_to_action"]) == (2, 28.0, 50.0)
    assert mine["share_within_deadline"] == 0.5
    assert [(m["code"], m["count"], m["organisations"]) for m in data.measures] == [("Z1", 1, 1)]
    empty = await dashboard.year_data(YEAR - 3)
    assert not empty.has_data


async def test_dashboard_page_three_ways_and_languages(world, client_factory):
    await submitted_report(world)
    regulator = await client_factory(world.akep_officer)
    page = await regulator.get(f"/t/akep/annual-report-dashboard?year={YEAR}")
    assert page.status_code == 200
    assert page.text.count("<svg") == 4 and "AlbaNet sh.p.k." in page.text
    assert "Nënshkruesit gjatë vitit" in page.text and "Tabela pas grafikut" in page.text
    await regulator.post("/language", {"language": "en"})
    english = await regulator.get(f"/t/akep/annual-report-dashboard?year={YEAR}")
    assert "Signatories over the year" in english.text and "Table behind the chart" in english.text
    isp = await client_factory(world.isp_admin)
    assert (await isp.get("/t/albanet/annual-report-dashboard")).status_code == 403
    outsider = await isp.get(f"/t/akep/annual-report-dashboard?year={YEAR}")
    assert outsider.status_code == 404 and "<svg" not in outsider.text and "Nënshkruesit gjatë vitit" not in outsider.text


async def test_the_dashboard_follows_changes_after_its_figures_were_cached(world, hotline):
    refs = await issue(hotline, [world.isp["slug"]], 2)
    await set_times(refs[0], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(6))
    first = await dashboard.year_data(YEAR, today=date(YEAR + 1, 4, 1))
    mine = next(t for t in first.takedown if t["tenant"]["id"] == world.isp["id"])
    assert mine["actioned"] == 1 and mine["median_hours_to_action"] == 6.0
    await set_times(refs[1], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(2), actioned=T0 + hours(50))
    again = await dashboard.year_data(YEAR, today=date(YEAR + 1, 4, 1))
    mine = next(t for t in again.takedown if t["tenant"]["id"] == world.isp["id"])
    assert (mine["received"], mine["median_hours_to_action"], mine["share_within_deadline"]) == (2, 28.0, 0.5)
