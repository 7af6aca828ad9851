"""Figures per category beside the DSA categories: counting rules, the page, downloads, access, exports."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from portal.core.db import execute, system_transaction
from portal.core.errors import ValidationFailed
from portal.takedown import category_figures, reports
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, audit_actions
from tests.takedown.test_requests import ISP_ACTOR

YEAR = datetime.now(UTC).year


async def _report(tenant, url, category):
    receipt = await reports.record_report(tenant["id"], reports.ReportInput(url, category), channel="analyst",
                                          actor=ANALYST)
    return receipt.item_id


async def _issue(issuer, recipients, urls, category):
    return await rq.issue_request(
        issuer, rq.RequestInput(kind="block", recipients=recipients, legal_basis="Ligji nr. 9918, neni 12",
                                item_ids=[], urls=urls, category=category), ANALYST)


@pytest.fixture
async def year_of_work(hotline, agency, isps):
    """The hotline's year: reports, assessments, two requests and what three ISPs did; the agency's request too."""
    first = await _report(hotline, "http://a.example.com/1", "csam")
    await _report(hotline, "HTTP://A.EXAMPLE.COM/1", "csam")  # a repeat: one more report, same address
    await _report(hotline, "http://b.example.com/2", "csam")
    bullying = await _report(hotline, "http://c.example.com/3", "cyberbullying")
    await reports.assess_item(hotline["id"], first, outcome="valid", note="", actor=ANALYST)
    await reports.assess_item(hotline["id"], bullying, outcome="out_of_jurisdiction", note="Jashtë vendit",
                              actor=ANALYST)
    # Two CSAM addresses to all three ISPs: six requested actions.
    csam = await _issue(hotline, ["all-isps"], ["http://a.example.com/1", "http://b.example.com/2"], "csam")
    await rq.mark_actioned(isps[0]["id"], csam["reference"], "blocked", "", ISP_ACTOR)
    await rq.dispute(isps[1]["id"], csam["reference"], "Nuk është në rrjetin tonë", ISP_ACTOR)
    await rq.close_assignment(hotline["id"], csam["reference"], isps[1]["slug"], "", ANALYST)  # still disputed
    # One grooming address to one ISP, withdrawn: not a requested action any more.
    grooming = await _issue(hotline, [isps[2]["slug"]], ["http://d.example.com/4"], "grooming")
    await rq.withdraw_request(hotline["id"], grooming["reference"], "Gabim", ANALYST)
    # Another issuer's request counts for the regulators, never in the hotline's own figures.
    await _issue(agency, [isps[0]["slug"]], ["http://e.example.com/5"], "hate_extremism")


def _by_code(rows):
    return {row.category: row for row in rows}


async def test_the_hotlines_own_year_per_category(hotline, year_of_work):
    rows = await category_figures.for_organisation(hotline["id"], YEAR)
    assert [row.category for row in rows] == list(category_figures.CATEGORIES)  # every category, zeros too
    figures = _by_code(rows)
    csam, bullying, grooming = figures["csam"], figures["cyberbullying"], figures["grooming"]
    # b.example.com was never assessed by hand: issuing a request for it assessed it as valid.
    assert (csam.reports, csam.addresses, csam.valid) == (3, 2, 2)
    assert (bullying.reports, bullying.addresses, bullying.out_of_jurisdiction, bullying.valid) == (1, 1, 1, 0)
    assert csam.request_urls == 2
    assert (csam.requested_actions, csam.blocked, csam.removed, csam.disputed, csam.still_open) == (6, 2, 0, 2, 2)
    # A typed-in address joins the queue as a valid address without a report.
    assert (grooming.reports, grooming.addresses, grooming.valid) == (0, 1, 1)
    assert (grooming.request_urls, grooming.requested_actions, grooming.still_open) == (1, 0, 0)
    assert figures["hate_extremism"].request_urls == 0 and figures["hate_extremism"].requested_actions == 0


async def test_another_year_is_empty(hotline, year_of_work):
    rows = await category_figures.for_organisation(hotline["id"], YEAR - 1)
    assert all(getattr(row, name) == 0 for row in rows for name in category_figures.COUNTS)


async def test_every_isps_actions_for_the_regulators(year_of_work):
    figures = _by_code(await category_figures.isp_actions(YEAR))
    assert (figures["csam"].requested_actions, figures["csam"].blocked, figures["csam"].disputed) == (6, 2, 2)
    assert figures["hate_extremism"].requested_actions == 1 and figures["hate_extremism"].still_open == 1
    assert figures["grooming"].requested_actions == 0


async def test_a_request_sent_last_year_counts_in_last_year(hotline, isps):
    issued = await _issue(hotline, [isps[0]["slug"]], ["http://old.example.com/"], "self_harm")
    async with system_transaction():
        await execute("UPDATE takedown_assignment SET sent_at = {} WHERE reference = {}",
                      datetime(YEAR - 1, 12, 31, 23, 0, tzinfo=UTC), issued["reference"])
    assert _by_code(await category_figures.isp_actions(YEAR - 1))["self_harm"].requested_actions == 1
    assert _by_code(await category_figures.isp_actions(YEAR))["self_harm"].requested_actions == 0


def test_table_carries_the_dsa_mapping_and_a_total():
    rows = [category_figures.CategoryFigures("csam", reports=2), category_figures.CategoryFigures("self_harm", reports=3)]
    table = category_figures.table(rows, ["reports"], "x")
    assert table.rows[0][1:] == ["STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", 2]
    assert table.rows[1][1:] == ["STATEMENT_CATEGORY_SELF_HARM", "KEYWORD_SELF_MUTILATION", 3]
    assert table.rows[-1][-1] == 5


@pytest.mark.parametrize("value", ["1999", "abc", str(YEAR + 1), "2017"])
def test_a_year_outside_the_range_is_refused(value):
    with pytest.raises(ValidationFailed):
        category_figures.valid_year(value)


def test_no_year_means_this_year():
    assert category_figures.valid_year("") == YEAR
    assert category_figures.valid_year(None, today=datetime(2030, 5, 1, tzinfo=UTC)) == 2030


@pytest.fixture
async def people(factory, hotline, agency, isps):
    return {
        "analyst": await factory.member(hotline, "analyst"),
        "viewer": await factory.member(hotline, "viewer"),
        "isp": await factory.member(isps[0], "admin"),
        "outsider": await factory.member(agency, "analyst"),
    }


async def test_page_shows_the_figures_in_albanian(client_factory, people, year_of_work):
    client = await client_factory(people["viewer"])
    response = await client.get(f"/t/hotline/takedown/figures?year={YEAR}")
    assert response.status_code == 200
    html = response.text
    assert "Shifrat sipas kategorisë" in html and "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" in html
    assert "Veprime të kërkuara nga ofruesit" in html
    assert "a.example" not in html and "a[.]example" not in html  # figures only, never addresses


async def test_page_refuses_a_bad_year_with_a_message(client_factory, people):
    client = await client_factory(people["analyst"])
    response = await client.get("/t/hotline/takedown/figures?year=1990")
    assert response.status_code == 422 and "Zgjidhni një vit nga 2018" in response.text
    assert (await client.get("/t/hotline/takedown/figures.csv?year=1990")).status_code == 422


async def test_access_in_threes(client_factory, people, year_of_work):
    for path in ("/t/hotline/takedown/figures", "/t/hotline/takedown/figures.csv", "/t/hotline/takedown/figures.xlsx"):
        assert (await (await client_factory(people["analyst"])).get(path)).status_code == 200
        isp_own = await (await client_factory(people["isp"])).get(path.replace("hotline", "isp-1"))
        assert isp_own.status_code == 403  # ISPs keep no queue of their own
        outsider = await (await client_factory(people["outsider"])).get(path)
        assert outsider.status_code == 404 and "KEYWORD_" not in outsider.text


async def test_the_police_see_only_their_own_figures(client_factory, people, year_of_work):
    client = await client_factory(people["outsider"])
    response = await client.get(f"/t/policia/takedown/figures.csv?year={YEAR}")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_label = {row[0]: row for row in rows}
    header = rows[0]
    actions = header.index("Veprime të kërkuara nga ofruesit")
    assert by_label["Urrejtje ose ekstremizëm i dhunshëm"][actions] == "1"
    assert by_label["Gjithsej"][actions] == "1"  # none of the hotline's six


async def test_downloads_match_the_page_and_are_audited(client_factory, people, year_of_work):
    client = await client_factory(people["analyst"])
    response = await client.get(f"/t/hotline/takedown/figures.csv?year={YEAR}")
    assert response.headers["content-type"].startswith("text/csv")
    assert f"shifrat-sipas-kategorise-{YEAR}.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Kategoria", "Kategoria e deklaratës sipas DSA", "Fjala kyçe sipas DSA"]
    assert len(rows) == 1 + len(category_figures.CATEGORIES) + 1
    csam = next(row for row in rows if row[1:3] == ["STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                                                     "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"])
    assert csam[3:] == ["3", "2", "2", "0", "0", "0", "2", "6", "2", "0", "2", "2"]
    workbook = openpyxl.load_workbook(io.BytesIO((await client.get(f"/t/hotline/takedown/figures.xlsx?year={YEAR}"))
                                                .content))
    sheet = workbook.active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == rows[0][:3]
    assert [str(v) for v in values[1][3:]] == csam[3:]
    assert (await audit_actions()).count("takedown.figures_exported") == 2


async def test_nav_shows_figures_to_analyst_organisations_only(client_factory, people):
    hotline_page = (await (await client_factory(people["viewer"])).get("/t/hotline")).text
    assert "/t/hotline/takedown/figures" in hotline_page
    isp_page = (await (await client_factory(people["isp"])).get("/t/isp-1")).text
    assert "takedown/figures" not in isp_page


async def test_figures_follow_the_deadline_clock_not_at_all(hotline, isps):
    """Overdue is a matter of time, not of action: an overdue copy is still 'not acted on yet'."""
    issued = await _issue(hotline, [isps[0]["slug"]], ["http://late.example.com/x"], "csam")
    async with system_transaction():
        await execute("UPDATE takedown_assignment SET due_at = {} WHERE reference = {}",
                      datetime.now(UTC) - timedelta(hours=1), issued["reference"])
    assert _by_code(await category_figures.for_organisation(hotline["id"], YEAR))["csam"].still_open == 1
