"""Demo organisations and accounts for the embedded mode; loading twice changes nothing."""

from __future__ import annotations

from portal.annual_reports import demo as annual_reports_demo
from portal.code_of_conduct import demo as code_of_conduct_demo
from portal.core.actor import Actor
from portal.core.db import tenant_transaction
from portal.takedown import demo as takedown_demo
from portal.tenants import services
from portal.tenants.tables import Membership, Tenant, User

DEMO_PASSWORD = "Demo-Siguri-2026"
DEMO_ACTOR = Actor.system("demo")

# slug, kind, name, hotline, profile
DEMO_TENANTS: list[tuple[str, str, str, bool, dict[str, str]]] = [
    ("akcesk", "regulator", "AKCESK – Autoriteti Kombëtar për Certifikimin Elektronik dhe Sigurinë Kibernetike", False,
     {"legal_name": "Autoriteti Kombëtar për Certifikimin Elektronik dhe Sigurinë Kibernetike", "nipt": "L81234567A",
      "address": "Rruga Papa Gjon Pali II, Tiranë", "contact_email": "info@akcesk.demo.al",
      "contact_point_name": "Elira Hoxha", "contact_point_title": "Drejtore e Sigurisë në Internet",
      "contact_point_email": "elira.hoxha@akcesk.demo.al", "contact_point_phone": "+355 4 222 0001"}),
    ("akep", "regulator", "AKEP – Autoriteti i Komunikimeve Elektronike dhe Postare", False,
     {"legal_name": "Autoriteti i Komunikimeve Elektronike dhe Postare", "nipt": "K71234568B",
      "address": "Rruga Reshit Çollaku, Tiranë", "contact_email": "info@akep.demo.al",
      "contact_point_name": "Arben Kola", "contact_point_title": "Specialist i Rregullimit",
      "contact_point_email": "arben.kola@akep.demo.al", "contact_point_phone": "+355 4 222 0002"}),
    ("policia", "agency", "Policia e Shtetit – Sektori kundër Krimeve Kibernetike", False,
     {"legal_name": "Drejtoria e Përgjithshme e Policisë së Shtetit", "address": "Sheshi Skënderbej, Tiranë",
      "contact_email": "kibernetike@policia.demo.al", "contact_point_name": "Inspektor Dritan Leka",
      "contact_point_title": "Shef i Sektorit", "contact_point_email": "dritan.leka@policia.demo.al"}),
    ("ashdmf", "agency", "ASHDMF – Agjencia Shtetërore për të Drejtat dhe Mbrojtjen e Fëmijëve", False,
     {"legal_name": "Agjencia Shtetërore për të Drejtat dhe Mbrojtjen e Fëmijëve", "address": "Rruga Abdi Toptani, Tiranë",
      "contact_email": "info@ashdmf.demo.al", "contact_point_name": "Mirela Shehu",
      "contact_point_email": "mirela.shehu@ashdmf.demo.al"}),
    ("hotline", "ngo", "Linja e Raportimit për Sigurinë e Fëmijëve Online", True,
     {"legal_name": "Qendra për Sigurinë e Fëmijëve Online", "nipt": "L91234569C", "address": "Rruga e Durrësit, Tiranë",
      "contact_email": "raporto@hotline.demo.al", "contact_point_name": "Ana Gjoka",
      "contact_point_email": "ana.gjoka@hotline.demo.al"}),
    ("femijet-online", "ngo", "Fondacioni Fëmijët Online", False,
     {"legal_name": "Fondacioni Fëmijët Online", "nipt": "L01234560D", "address": "Rruga Myslym Shyri, Tiranë",
      "contact_email": "info@femijetonline.demo.al"}),
    ("albanet", "isp", "AlbaNet Fiber sh.p.k.", False,
     {"legal_name": "AlbaNet Fiber sh.p.k.", "nipt": "L11234561E", "address": "Rruga Sami Frashëri, Tiranë",
      "contact_email": "abuse@albanet.demo.al", "contact_point_name": "Klajdi Dervishi",
      "contact_point_title": "Përgjegjës i Përputhshmërisë", "contact_point_email": "klajdi.dervishi@albanet.demo.al"}),
    ("shqiponja", "isp", "Shqiponja Telekom sh.a.", False,
     {"legal_name": "Shqiponja Telekom sh.a.", "nipt": "K21234562F", "address": "Bulevardi Zogu I, Tiranë",
      "contact_email": "abuse@shqiponja.demo.al", "contact_point_name": "Besa Marku",
      "contact_point_email": "besa.marku@shqiponja.demo.al"}),
    ("adriatik", "isp", "Adriatik Mobile sh.a.", False,
     {"legal_name": "Adriatik Mobile sh.a.", "nipt": "L31234563G", "address": "Rruga Taulantia, Durrës",
      "contact_email": "abuse@adriatik.demo.al"}),
]

OPERATOR_EMAIL = "operator@portal.demo.al"


async def _ensure_member(tenant: dict, email: str, full_name: str, role: str) -> None:
    user, _created = await services.get_or_create_user(email, full_name, DEMO_ACTOR, DEMO_PASSWORD)
    async with tenant_transaction(tenant["id"]):
        if await Membership.exists().where((Membership.tenant == tenant["id"]) & (Membership.user == user["id"])):
            return
    await services.add_member(tenant, user, role, DEMO_ACTOR)


async def load_demo() -> list[dict]:
    """Create what is missing and return the demo accounts to print."""
    accounts: list[dict] = []
    for slug, kind, name, hotline, profile in DEMO_TENANTS:
        tenant = await Tenant.select().where(Tenant.slug == slug).first()
        if tenant is None:
            tenant = await services.create_tenant(kind=kind, slug=slug, name=name, actor=DEMO_ACTOR, is_hotline=hotline, **profile)
        roles = ["admin", "officer"] + (["analyst"] if kind in {"agency", "regulator"} or hotline else [])
        for role in roles:
            email = f"{role}@{slug}.demo.al"
            await _ensure_member(tenant, email, f"{role.capitalize()} {slug.upper()}", role)
            accounts.append({"tenant": name[:45], "kind": kind, "email": email, "role": role})
    operator, _created = await services.get_or_create_user(OPERATOR_EMAIL, "Operatori i Platformës", DEMO_ACTOR, DEMO_PASSWORD)
    if not operator["is_operator"]:
        await User.update({User.is_operator: True}).where(User.id == operator["id"])
    accounts.append({"tenant": "(platform operator)", "kind": "-", "email": OPERATOR_EMAIL, "role": "operator"})
    await code_of_conduct_demo.load()
    await annual_reports_demo.load()
    await takedown_demo.load()
    return accounts
