"""Demo takedown data: the hotline's queue, requests to the three ISPs in every state, one overdue.

Everything goes through the services (reports, requests, transitions), so the timeline, audit
entries, block lists and mails are the real ones. Addresses are under example.* domains, which
never resolve. Loading twice changes nothing: a hotline queue that already holds reports is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.core.actor import Actor
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.takedown import reports, requests
from portal.takedown.reports import ReportInput
from portal.takedown.requests import RequestInput
from portal.tenants.tables import Tenant, User

DEMO_IP = "127.0.0.1"

# url, category, description, contact (public reports only)
QUEUE = [
    ("https://galeria-e-fshehte.example.net/albumi/4471", "csam", "Imazhe të abuzimit me fëmijë në një album publik.", ""),
    ("http://forum-anonim.example.org/tema/8812?faqe=2", "grooming",
     "Një i rritur u kërkon fëmijëve numrat e telefonit.", "prind.shqetesuar@example.com"),
    ("https://video-shqip.example.com/v/ngacmim-ne-shkolle", "cyberbullying",
     "Video që tallet me një nxënëse të identifikueshme.", ""),
    ("https://grupi-urrejtjes.example.net/postim/55", "hate_extremism", "Thirrje për dhunë ndaj një komuniteti.", ""),
    ("https://sfida-e-rrezikshme.example.org/sfida", "self_harm", "Sfidë që nxit vetëlëndimin te adoleshentët.", ""),
    ("https://kazino-pa-licence.example.com/", "inappropriate", "Bixhoz pa kontroll moshe, reklamuar te fëmijët.", ""),
]


async def _actor(email: str) -> Actor | None:
    user = await User.select(User.id).where(User.email == email).first()
    return Actor(user_id=user["id"], label=email, ip=DEMO_IP) if user else None


async def _tenants() -> dict[str, dict]:
    rows = await Tenant.select().where(Tenant.slug.is_in(["hotline", "policia", "albanet", "shqiponja", "adriatik"]))
    return {row["slug"]: row for row in rows}


async def load() -> None:
    tenants = await _tenants()
    hotline_analyst = await _actor("analyst@hotline.demo.al")
    police_analyst = await _actor("analyst@policia.demo.al")
    if len(tenants) < 5 or hotline_analyst is None or police_analyst is None:
        return
    hotline, police = tenants["hotline"], tenants["policia"]
    async with tenant_transaction(hotline["id"]):
        if (await execute("SELECT COUNT(*) AS n FROM takedown_report"))[0]["n"]:
            return
    public = Actor.system("public-form")
    items = []
    for url, category, description, contact in QUEUE:
        data = ReportInput(url=url, category=category, description=description, contact=contact)
        if contact:
            receipt = await reports.submit_public_report(data, submitter="demo", ip=DEMO_IP)
        else:
            receipt = await reports.record_report(hotline["id"], data, channel="analyst", actor=hotline_analyst,
                                                  submitted_by=hotline_analyst.user_id)
        items.append(receipt.item_id)
    # A second person reports the album, spelt differently: it normalises to the same item, now with two reports.
    await reports.record_report(hotline["id"], ReportInput(url="https://GALERIA-E-FSHEHTE.example.net:443/albumi/4471#foto",
                                                           category="csam"), channel="public", actor=public)
    await reports.assess_item(hotline["id"], items[5], outcome="out_of_jurisdiction",
                              note="Operatori është jashtë Shqipërisë; u përcoll te rrjeti INHOPE.", actor=hotline_analyst)

    block_all = await requests.issue_request(hotline, RequestInput(
        kind="block", recipients=["all-isps"], legal_basis="Ligji nr. 18/2017, neni 29; Kodi i Sjelljes, angazhimi Z2",
        item_ids=[items[0]], urls=[], note="Material i konfirmuar nga dy analistë.",
    ), hotline_analyst)
    block_two = await requests.issue_request(hotline, RequestInput(
        kind="block", recipients=["albanet", "shqiponja"], legal_basis="Ligji nr. 18/2017, neni 29",
        item_ids=[items[1], items[3]], urls=[],
    ), hotline_analyst)
    takedown = await requests.issue_request(police, RequestInput(
        kind="takedown", recipients=["albanet"], legal_basis="Kodi i Procedurës Penale, neni 208/a",
        item_ids=[], urls=["https://video-shqip.example.com/v/ngacmim-ne-shkolle"], category="cyberbullying",
    ), police_analyst)

    albanet, shqiponja = await _actor("officer@albanet.demo.al"), await _actor("officer@shqiponja.demo.al")
    if albanet is None or shqiponja is None:
        return
    await requests.mark_actioned(tenants["albanet"]["id"], block_all["reference"], "blocked",
                                 "Bllokuar në DNS dhe në proxy brenda orës.", albanet)
    await requests.acknowledge(tenants["shqiponja"]["id"], block_all["reference"], shqiponja)
    await requests.acknowledge(tenants["albanet"]["id"], block_two["reference"], albanet)
    await requests.dispute(tenants["shqiponja"]["id"], block_two["reference"],
                           "Njëra adresë nuk gjendet në rrjetin tonë; kërkojmë verifikim.", shqiponja)
    await requests.acknowledge(tenants["albanet"]["id"], takedown["reference"], albanet)
    await _make_overdue(tenants["adriatik"]["id"], block_all["reference"])


async def _make_overdue(recipient_id: int, reference: str) -> None:
    """Move one ISP's copy a day back so the demo shows an overdue request (and the escalation it triggers)."""
    past = datetime.now(UTC) - timedelta(hours=30)
    async with system_transaction():
        await execute(
            "UPDATE takedown_assignment SET sent_at = {}, issued_at = {}, due_at = {} WHERE recipient = {} AND reference = {}",
            past, past, past + timedelta(hours=24), recipient_id, reference,
        )
