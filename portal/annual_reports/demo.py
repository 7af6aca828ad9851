"""Demo annual reports for 2025: AlbaNet's reviewed (returned once, then accepted), Adriatik's awaiting review.

Loading twice changes nothing: an organisation that already has a 2025 report is left alone.
"""

from __future__ import annotations

from portal.annual_reports import services
from portal.annual_reports.tables import AnnualReport
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.tenants.tables import Tenant, User

YEAR = 2025
DEMO_IP = "127.0.0.1"

NARRATIVE = {
    "done": "Gjatë vitit zbatuam angazhimin %(code)s me masat e regjistruara në portal dhe me procedura të brendshme.",
    "results": "Të gjitha kërkesat e marra u trajtuan; shifrat e heqjeve dhe bllokimeve janë në seksionin përkatës.",
    "difficulties": "Disa kërkesa mbërritën jashtë orarit të punës dhe u konfirmuan me vonesë.",
    "plans": "Në vitin e ardhshëm do të automatizojmë konfirmimin dhe do të trajnojmë stafin e ri.",
}


async def _actor(email: str) -> Actor | None:
    user = await User.select(User.id).where(User.email == email).first()
    return Actor(user_id=user["id"], label=email, ip=DEMO_IP) if user else None


async def _narratives(tenant_id: int, extra: str = "") -> dict:
    codes = [c["code"] for c in (await services.build_figures(tenant_id, YEAR))["commitments"]]
    return {f"{code}__{name}": (text % {"code": code} if "%(code)s" in text else text) + (extra if name == "done" else "")
            for code in codes for name, text in NARRATIVE.items()}


async def _start(slug: str) -> tuple[dict, Actor, Actor] | None:
    tenant = await Tenant.select().where(Tenant.slug == slug).first()
    officer, admin = await _actor(f"officer@{slug}.demo.al"), await _actor(f"admin@{slug}.demo.al")
    if tenant is None or officer is None or admin is None:
        return None
    async with system_transaction():
        if await AnnualReport.exists().where((AnnualReport.tenant == tenant["id"]) & (AnnualReport.year == YEAR)):
            return None
    if not (await services.build_figures(tenant["id"], YEAR))["commitments"]:
        return None
    return tenant, officer, admin


async def load() -> None:
    akcesk = await Tenant.select().where(Tenant.slug == "akcesk").first()
    akep = await Tenant.select().where(Tenant.slug == "akep").first()
    akcesk_officer, akep_admin = await _actor("officer@akcesk.demo.al"), await _actor("admin@akep.demo.al")
    started = await _start("albanet")
    if started and akcesk and akep and akcesk_officer and akep_admin:
        tenant, officer, admin = started
        await services.save_draft(tenant, YEAR, await _narratives(tenant["id"]), officer)
        report = await services.submit(tenant, YEAR, 1, admin)
        await services.start_review(akcesk, report["id"], akcesk_officer)
        first_code = report["current"]["snapshot"]["figures"]["commitments"][0]["code"]
        await services.decide(akcesk, report["id"], {
            "revision": "1", "decision": "return",
            "note": "Ju lutemi shtoni numrin e abonentëve të prekur nga masat.",
            f"comment__{first_code}": "Sa URL u bllokuan gjithsej dhe sa prej tyre brenda 24 orëve?",
            "comment__takedown": "Shpjegoni kërkesat që u konfirmuan me vonesë.",
        }, akcesk_officer)
        await services.save_draft(tenant, YEAR, await _narratives(
            tenant["id"], " Gjithsej u bllokuan 1 243 URL, nga të cilat 1 198 brenda 24 orëve."), officer)
        report = await services.submit(tenant, YEAR, 2, admin)
        await services.decide(akep, report["id"], {"revision": "2", "decision": "accept",
                                                   "note": "Raporti është i plotë. Faleminderit."}, akep_admin)
    started = await _start("adriatik")
    if started:
        tenant, officer, admin = started
        await services.save_draft(tenant, YEAR, await _narratives(tenant["id"]), officer)
        await services.submit(tenant, YEAR, 1, admin)
