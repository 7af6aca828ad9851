"""Takedown figures of a report year against hand-computed expectations."""

from datetime import UTC, datetime

from portal.annual_reports import figures
from tests.annual_reports.conftest import T0, YEAR, hours, issue, set_times

LATER = T0 + hours(1000)


def row(ack=None, act=None, due=24, status=None, outcome=None, disputed=None):
    return {
        "recipient": 1, "sent_at": T0, "due_at": T0 + hours(due),
        "acknowledged_at": T0 + hours(ack) if ack is not None else None,
        "actioned_at": T0 + hours(act) if act is not None else None,
        "disputed_at": disputed, "outcome": outcome if outcome is not None else ("blocked" if act is not None else ""),
        "status": status or ("actioned" if act is not None else "acknowledged" if ack is not None else "sent"),
    }


def test_percentile_is_nearest_rank():
    assert figures.percentile([], 0.9) is None
    assert figures.percentile([5.0], 0.9) == 5.0
    assert figures.percentile([float(n) for n in range(10, 0, -1)], 0.9) == 9.0  # ceil(0.9 * 10) = 9th value
    assert figures.percentile([2.0, 10.0, 30.0], 0.9) == 30.0  # ceil(2.7) = 3rd value


def test_small_year_by_hand():
    rows = [row(ack=1, act=2), row(ack=2, act=10), row(ack=3, act=30), row(ack=4), row()]
    result = figures.takedown_figures(rows, now=LATER)
    assert result == {
        "received": 5, "acknowledged": 4, "actioned": 3, "disputed": 0,
        "overdue": 3,  # one actioned after its deadline, two still open past it
        "median_hours_to_acknowledge": 2.5, "p90_hours_to_acknowledge": 4.0,
        "median_hours_to_action": 10.0, "p90_hours_to_action": 30.0,
        "share_within_deadline": 0.4,  # 2 of 5 actioned by the deadline
    }


def test_withdrawn_requests_do_not_count_against_the_share():
    rows = [row(ack=1, act=2), row(status="withdrawn"), row(ack=1, act=48, due=24)]
    assert figures.takedown_figures(rows, now=LATER)["share_within_deadline"] == 0.5


def test_no_requests():
    result = figures.takedown_figures([], now=LATER)
    assert result["received"] == 0 and result["overdue"] == 0
    assert result["median_hours_to_action"] is None and result["p90_hours_to_action"] is None
    assert result["median_hours_to_acknowledge"] is None and result["share_within_deadline"] is None


def test_all_overdue():
    result = figures.takedown_figures([row(), row(), row(ack=30)], now=LATER)
    assert (result["received"], result["actioned"], result["overdue"]) == (3, 0, 3)
    assert result["share_within_deadline"] == 0.0
    assert result["median_hours_to_action"] is None and result["p90_hours_to_acknowledge"] == 30.0


async def test_figures_from_the_database_per_isp_and_year(world, hotline):
    refs = await issue(hotline, [world.isp["slug"], world.other["slug"]], 3)
    isp = world.isp["id"]
    await set_times(refs[0], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(4))
    await set_times(refs[1], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(3), actioned=T0 + hours(26))
    await set_times(refs[2], isp, sent=T0, due=T0 + hours(24))
    mine = await figures.for_isp(isp, YEAR)
    assert (mine["received"], mine["acknowledged"], mine["actioned"], mine["overdue"]) == (3, 2, 2, 2)
    assert mine["median_hours_to_acknowledge"] == 2.0 and mine["p90_hours_to_acknowledge"] == 3.0
    assert mine["median_hours_to_action"] == 15.0 and mine["p90_hours_to_action"] == 26.0
    assert mine["share_within_deadline"] == round(1 / 3, 4)
    assert (await figures.for_isp(isp, YEAR - 1))["received"] == 0
    everyone = await figures.by_isp(YEAR)
    assert everyone[isp] == mine
    # the other ISP's requests were sent now: they count in this year only if this is that year
    now_year = datetime.now(UTC).year
    assert everyone.get(world.other["id"], {"received": 0})["received"] == (3 if now_year == YEAR else 0)
