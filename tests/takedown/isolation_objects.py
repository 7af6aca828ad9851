"""Takedown objects of tenant A (a hotline) for tests/test_isolation_all_routes.py (see its docstring)."""

from __future__ import annotations

import io

from portal.core.actor import Actor
from portal.takedown import imports, reports
from portal.takedown import requests as takedown_requests

SECRET_URL = "http://sekret-i-linjes-a.example/faqja"
SECRET_CONTACT = "raportuesi-sekret@a.example"
SECRET_BASIS = "Baza ligjore sekrete e A"


def _actor(world) -> Actor:
    return Actor(user_id=world.admin.user["id"], label=world.admin.email, ip="127.0.0.1")


async def _item_id(world) -> object:
    receipt = await reports.record_report(
        world.tenant["id"],
        reports.ReportInput(SECRET_URL, "csam", description="Pershkrim sekret i A", contact=SECRET_CONTACT),
        channel="analyst", actor=_actor(world),
    )
    world.secrets += ["sekret-i-linjes-a", SECRET_CONTACT, "Pershkrim sekret i A", receipt.receipt]
    return receipt.item_id


async def _reference(world) -> object:
    item_id = await world.ensure("item_id")
    await world.factory.tenant("isp", slug="isp-isolation", name="ISP i izolimit")
    issued = await takedown_requests.issue_request(
        world.tenant,
        takedown_requests.RequestInput(kind="block", recipients=["isp-isolation"], legal_basis=SECRET_BASIS,
                                       item_ids=[item_id], urls=[]),
        _actor(world),
    )
    world.secrets.append(SECRET_BASIS)  # the reference itself is in the path the outsider typed
    return issued["reference"]


async def _recipient(world) -> object:
    await world.ensure("reference")
    return "isp-isolation"


async def _action(world) -> object:
    return "acknowledge"


async def _import_id(world) -> object:
    data = "url,category,note\nhttp://importi-sekret-a.example/x,grooming,Shenim importi sekret\nftp://x,csam,\n"
    result = await imports.import_reports(world.tenant["id"], io.BytesIO(data.encode()), "importi-sekret-a.csv",
                                          _actor(world))
    world.secrets += ["importi-sekret-a", "Shenim importi sekret"]
    return result.import_id


OBJECT_BUILDERS = {
    "item_id": _item_id,
    "reference": _reference,
    "recipient": _recipient,
    "action": _action,
    "import_id": _import_id,
}
