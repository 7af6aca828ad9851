"""The demo takedown data: a hotline queue, requests in every state, one overdue; loading twice adds nothing."""

from portal.core.db import execute, system_transaction
from portal.demo import load_demo
from portal.takedown import demo, feeds, requests
from portal.tenants.tables import Tenant


async def _counts() -> dict[str, int]:
    async with system_transaction():
        return {t: (await execute(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"]
                for t in ("takedown_item", "takedown_report", "takedown_request", "takedown_assignment", "audit_entry")}


async def _tenant(slug: str) -> dict:
    return await Tenant.select().where(Tenant.slug == slug).first()


async def test_demo_takedown_data():
    await load_demo()
    first = await _counts()
    await demo.load()
    assert await _counts() == first
    # Six addresses in the hotline's queue (one reported twice) and the police's typed URL in its own.
    assert first["takedown_item"] == 7 and first["takedown_report"] == 7 and first["takedown_request"] == 3

    albanet, shqiponja, adriatik = await _tenant("albanet"), await _tenant("shqiponja"), await _tenant("adriatik")
    statuses = {}
    for isp in (albanet, shqiponja, adriatik):
        rows, _pager, overdue = await requests.inbox(isp["id"], "", 1)
        statuses[isp["slug"]] = (sorted(r["status"] for r in rows), overdue)
    assert statuses == {
        "albanet": (["acknowledged", "acknowledged", "actioned"], 0),
        "shqiponja": (["acknowledged", "disputed"], 0),
        "adriatik": (["sent"], 1),
    }
    # Blocked by AlbaNet, pending at Shqiponja: on both lists; disputed by Shqiponja: on AlbaNet's only.
    albanet_list = {value for _type, value in (await feeds.snapshot(albanet["id"], None))[1]}
    shqiponja_list = {value for _type, value in (await feeds.snapshot(shqiponja["id"], None))[1]}
    assert "https://galeria-e-fshehte.example.net/albumi/4471" in albanet_list & shqiponja_list
    assert "http://forum-anonim.example.org/tema/8812?faqe=2" in albanet_list - shqiponja_list
