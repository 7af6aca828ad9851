"""Demo Code of Conduct: two published versions, a draft, signatures by the demo ISPs and some measures.

Everything goes through the services (so hashes, history and audit entries are real); dates are
then moved back to make the history look lived-in. Loading twice adds nothing: each step first
checks whether what it would create is already there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.code_of_conduct import measures, services
from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.measures import MeasureInput
from portal.code_of_conduct.tables import CodeVersion, Measure, Signature
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.tenants.tables import Tenant, User

DEMO_IP = "192.0.2.10"  # documentation range: the demo signatures were not made from a real address

BODY_SQ = """Ky Kod i Sjelljes hartohet në zbatim të Planit Kombëtar të Veprimit për Sigurinë e Fëmijëve në \
Internet (aktiviteti 3.2). Ai përcakton angazhimet vullnetare të ofruesve të shërbimeve të internetit (ISP) \
dhe të organizatave që aderojnë në të, për të mbrojtur fëmijët nga përmbajtjet e paligjshme dhe të dëmshme \
në internet.

## Parimet

- **Interesi më i lartë i fëmijës** udhëheq çdo vendim të palëve nënshkruese.
- **Konfidencialiteti**: të dhënat e fëmijëve dhe të raportuesve trajtohen në përputhje me ligjin për \
mbrojtjen e të dhënave personale.
- **Bashkëpunimi**: palët bashkëpunojnë me AKCESK, AKEP, Policinë e Shtetit, ASHDMF dhe linjën e raportimit.

Nënshkruesit raportojnë çdo vit masat e marra për zbatimin e secilit angazhim. AKCESK dhe AKEP publikojnë \
listën e nënshkruesve dhe raportin vjetor mbi zbatimin e Kodit."""

BODY_EN = """This Code of Conduct is issued under the National Action Plan for the Safety of Children Online \
(activity 3.2). It sets out the voluntary commitments of internet service providers (ISPs), and of the \
organisations that adhere to it, to protect children from illegal and harmful content online.

## Principles

- **The best interests of the child** guide every decision of the signatories.
- **Confidentiality**: data about children and about people who report are handled in line with the law on \
the protection of personal data.
- **Cooperation**: signatories work with AKCESK, AKEP, the State Police, ASHDMF and the reporting hotline.

Signatories report every year on the measures taken to implement each commitment. AKCESK and AKEP publish \
the list of signatories and the annual report on the Code's implementation."""

# code -> (title_sq, title_en, text_sq, text_en), as in force from version 2026.1
COMMITMENTS_2026 = {
    "Z1": (
        "Bllokimi i URL-ve të listuara brenda 24 orëve",
        "Blocking of listed URLs within 24 hours",
        "Nënshkruesi bllokon aksesin në URL-të e përfshira në listën e bllokimit të dërguar nga autoritetet "
        "kompetente (Policia e Shtetit, AKEP) brenda 24 orëve nga marrja e kërkesës, konfirmon veprimin në portal "
        "dhe mban regjistër të çdo kërkese dhe veprimi të kryer.",
        "The signatory blocks access to URLs on the block list sent by the competent authorities (State Police, "
        "AKEP) within 24 hours of receiving the request, confirms the action in the portal and keeps a record of "
        "every request and action taken.",
    ),
    "Z2": (
        "Kanale raportimi për përdoruesit",
        "Reporting channels for users",
        "Nënshkruesi ofron në faqen e tij të internetit dhe në aplikacionet e tij një kanal të dukshëm dhe të lehtë "
        "për t'u përdorur për raportimin e përmbajtjeve të paligjshme ose të dëmshme për fëmijët, me lidhje drejt "
        "platformës kombëtare ISIGURT.AL dhe linjës ALO 116-111, dhe u përgjigjet raportimeve brenda 2 ditëve pune.",
        "The signatory offers on its website and apps a visible, easy-to-use channel for reporting content that is "
        "illegal or harmful to children, linking to the national platform ISIGURT.AL and the ALO 116-111 helpline, "
        "and answers reports within 2 working days.",
    ),
    "Z3": (
        "Oferta për kontroll prindëror",
        "Parental-control offers",
        "Nënshkruesi u ofron abonentëve, pa pagesë shtesë, mjete kontrolli prindëror (filtrim përmbajtjeje, kufizim "
        "kohe, raportim aktiviteti), i informon për to në momentin e lidhjes së kontratës dhe publikon udhëzime të "
        "thjeshta në shqip për aktivizimin e tyre.",
        "The signatory offers subscribers parental-control tools (content filtering, time limits, activity reports) "
        "at no extra charge, informs them when the contract is signed and publishes simple instructions in Albanian "
        "on how to switch them on.",
    ),
    "Z4": (
        "Trajnimi i stafit",
        "Staff training",
        "Nënshkruesi trajnon të paktën një herë në vit stafin e shërbimit ndaj klientit, të trajtimit të abuzimeve "
        "dhe stafin teknik mbi sigurinë e fëmijëve në internet, trajtimin e raportimeve dhe ruajtjen e "
        "konfidencialitetit.",
        "The signatory trains its customer-service, abuse-desk and technical staff at least once a year on "
        "children's online safety, handling reports and keeping confidentiality.",
    ),
    "Z5": (
        "Bashkëpunimi me Policinë e Shtetit dhe linjën e raportimit",
        "Cooperation with the State Police and the hotline",
        "Nënshkruesi cakton një pikë kontakti të disponueshme 24/7 për Policinë e Shtetit dhe linjën e raportimit, "
        "ruan dhe vë në dispozicion të dhënat e kërkuara me vendim të organit kompetent sipas ligjit, dhe nuk e "
        "njofton përdoruesin për kërkesa që mund të cenojnë një hetim.",
        "The signatory designates a contact point available 24/7 to the State Police and the reporting hotline, "
        "preserves and provides the data requested by a decision of the competent authority as the law provides, "
        "and does not alert a user to requests that could compromise an investigation.",
    ),
    "Z6": (
        "Ndërgjegjësimi i abonentëve",
        "Subscriber awareness",
        "Nënshkruesi zhvillon të paktën një fushatë ndërgjegjësimi në vit për prindërit, mësuesit dhe fëmijët mbi "
        "rreziqet në internet dhe mekanizmat e raportimit, duke marrë pjesë edhe në fushatën kombëtare të përvitshme.",
        "The signatory runs at least one awareness campaign a year for parents, teachers and children about online "
        "risks and reporting mechanisms, and takes part in the annual national campaign.",
    ),
    "Z7": (
        "Raportimi vjetor",
        "Annual reporting",
        "Nënshkruesi dorëzon brenda 31 marsit të çdo viti raportin vjetor të zbatimit të Kodit për vitin "
        "paraardhës, me masat e marra për secilin angazhim, treguesit përkatës dhe dëshmitë mbështetëse.",
        "By 31 March each year the signatory submits its annual report on implementing the Code in the previous "
        "year, with the measures taken for each commitment, the related indicators and supporting evidence.",
    ),
    "Z8": (
        "Mbrojtja e të dhënave të fëmijëve",
        "Protection of children's data",
        "Nënshkruesi nuk i përdor të dhënat e fëmijëve për profilizim ose reklamë të synuar dhe i trajton të dhënat "
        "e raportimeve vetëm për qëllimin e mbrojtjes së fëmijës, në përputhje me ligjin për mbrojtjen e të "
        "dhënave personale.",
        "The signatory does not use children's data for profiling or targeted advertising, and handles data from "
        "reports only to protect the child, in line with the law on the protection of personal data.",
    ),
}

# Where the first version (2025.1) said something else; it had no Z8.
CHANGED_IN_2025 = {
    "Z1": (
        "Bllokimi i URL-ve të listuara brenda 48 orëve",
        "Blocking of listed URLs within 48 hours",
        "Nënshkruesi bllokon aksesin në URL-të e përfshira në listën e bllokimit të dërguar nga autoritetet "
        "kompetente brenda 48 orëve nga marrja e kërkesës dhe mban regjistër të çdo veprimi të kryer.",
        "The signatory blocks access to URLs on the block list sent by the competent authorities within 48 hours "
        "of receiving the request and keeps a record of every action taken.",
    ),
    "Z2": (
        "Kanale raportimi për përdoruesit",
        "Reporting channels for users",
        "Nënshkruesi ofron në faqen e tij të internetit një kanal për raportimin e përmbajtjeve të paligjshme ose "
        "të dëmshme për fëmijët dhe u përgjigjet raportimeve brenda 5 ditëve pune.",
        "The signatory offers on its website a channel for reporting content that is illegal or harmful to "
        "children and answers reports within 5 working days.",
    ),
    "Z7": (
        "Raportimi vjetor",
        "Annual reporting",
        "Nënshkruesi dorëzon brenda 30 prillit të çdo viti raportin vjetor të zbatimit të Kodit për vitin "
        "paraardhës.",
        "By 30 April each year the signatory submits its annual report on implementing the Code in the previous "
        "year.",
    ),
}

# The draft 2027.1 regulators are working on: a tighter Z1 and a new Z9.
CHANGED_IN_2027 = {
    "Z1": (
        "Bllokimi i URL-ve të listuara brenda 24 orëve, 6 orëve për materiale abuzimi",
        "Blocking of listed URLs within 24 hours, 6 hours for abuse material",
        "Nënshkruesi bllokon aksesin në URL-të e përfshira në listën e bllokimit të dërguar nga autoritetet "
        "kompetente (Policia e Shtetit, AKEP) brenda 24 orëve nga marrja e kërkesës, dhe brenda 6 orëve kur "
        "kërkesa ka të bëjë me materiale të abuzimit seksual të fëmijëve; konfirmon veprimin në portal dhe mban "
        "regjistër të çdo kërkese dhe veprimi të kryer.",
        "The signatory blocks access to URLs on the block list sent by the competent authorities (State Police, "
        "AKEP) within 24 hours of receiving the request, and within 6 hours when the request concerns child sexual "
        "abuse material; it confirms the action in the portal and keeps a record of every request and action taken.",
    ),
    "Z9": (
        "Wi-Fi publik i sigurt për fëmijët",
        "Child-safe public Wi-Fi",
        "Në rrjetet Wi-Fi publike që menaxhon (shkolla, biblioteka, hapësira publike), nënshkruesi aktivizon si "
        "parazgjedhje filtrimin e përmbajtjeve të papërshtatshme për fëmijët.",
        "On the public Wi-Fi networks it operates (schools, libraries, public spaces), the signatory switches on "
        "filtering of content inappropriate for children by default.",
    ),
}

TITLE_SQ = "Kodi i Sjelljes për Sigurinë në Internet"
TITLE_EN = "Code of Conduct for Internet Safety"


def _at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def _commitment_rows(changes: dict, *, drop: tuple[str, ...] = ()) -> list[dict]:
    merged = {**COMMITMENTS_2026, **changes}
    rows = []
    for position, code in enumerate(sorted(merged, key=lambda c: int(c[1:])), start=1):
        if code in drop:
            continue
        title_sq, title_en, text_sq, text_en = merged[code]
        rows.append(
            {"code": code, "position": str(position), "title_sq": title_sq, "title_en": title_en,
             "text_sq": text_sq, "text_en": text_en}
        )
    return rows


async def _actor(email: str) -> Actor | None:
    user = await User.select(User.id).where(User.email == email).first()
    return Actor(user_id=user["id"], label=email, ip=DEMO_IP) if user else None


async def _tenant(slug: str) -> dict | None:
    return await Tenant.select().where(Tenant.slug == slug).first()


async def _ensure_version(regulator: dict, actor: Actor, label: str, rows: list[dict], *, publish: bool) -> dict:
    existing = await CodeVersion.select().where(CodeVersion.label == label).first()
    if existing is not None:
        return existing
    draft = await services.create_draft(
        regulator, {"label": label, "title_sq": TITLE_SQ, "title_en": TITLE_EN, "body_sq": BODY_SQ, "body_en": BODY_EN},
        actor, copy_current=False,
    )
    for row in rows:
        await services.add_commitment(regulator, draft["id"], row, actor)
    if publish:
        return await services.publish_version(regulator, draft["id"], actor, confirmed=True)
    return draft


async def _ensure_signature(slug: str, version: dict, name: str, title: str, signed_at: datetime) -> None:
    tenant = await _tenant(slug)
    actor = await _actor(f"admin@{slug}.demo.al")
    if tenant is None or actor is None:
        return
    async with system_transaction():
        if await Signature.exists().where((Signature.tenant == tenant["id"]) & (Signature.version == version["id"])):
            return
    fresh = await CodeVersion.select().where(CodeVersion.id == version["id"]).first()
    signature = await services.sign_version(
        tenant, version_id=fresh["id"], shown_hash=fresh["content_hash"], signatory_name=name, signatory_title=title,
        confirmed=True, signed_pdf=None, actor=actor,
    )
    async with system_transaction():
        await Signature.update({Signature.signed_at: signed_at}).where(Signature.id == signature["id"])


# slug -> measures: (title, description, category, status, start, end, codes, indicators, evidence)
DEMO_MEASURES = {
    "albanet": [
        (
            "Formulari i raportimit në faqen e internetit",
            "Formular i ri në albanet.al/raporto për raportimin e përmbajtjeve të dëmshme për fëmijët, me "
            "përgjigje automatike dhe ndjekje nga zyra e abuzimeve.",
            "reporting_channel", "done", date(2025, 5, 5), date(2025, 6, 30), ["Z2"],
            [("Raportime të marra", "57"), ("Koha mesatare e përgjigjes (ditë)", "1,5")], None,
        ),
        (
            "Bllokimi automatik i listës së URL-ve nga Policia e Shtetit",
            "Lista e bllokimit merret çdo orë nga portali dhe zbatohet në serverat DNS; çdo kërkesë konfirmohet "
            "në portal pas zbatimit.",
            "filtering", "done", date(2026, 2, 10), date(2026, 3, 31), ["Z1"],
            [("URL të listuara të bllokuara", "1243"), ("Koha mesatare e bllokimit (orë)", "5.5")],
            ("raport-bllokimi-2026-T1.csv",
             "muaji,kerkesa,url_te_bllokuara,koha_mesatare_ore\n2026-02,21,512,6.1\n2026-03,26,731,5.0\n"),
        ),
        (
            "Kontrolli prindëror falas për paketat familjare",
            "Shërbimi 'Familja e Sigurt' aktivizohet pa pagesë në çdo paketë familjare; klientët informohen në "
            "kontratë dhe me SMS.",
            "parental_controls", "in_progress", date(2026, 3, 1), None, ["Z3", "Z6"],
            [("Abonentë me kontroll prindëror aktiv", "4820")], None,
        ),
        (
            "Trajnim për stafin e shërbimit ndaj klientit",
            "Tri sesione dyditore me linjën e raportimit mbi trajtimin e raportimeve dhe konfidencialitetin.",
            "staff_training", "done", date(2026, 4, 14), date(2026, 4, 16), ["Z4"],
            [("Staf i trajnuar", "38")], None,
        ),
    ],
    "shqiponja": [
        (
            "Fushata 'Internet i sigurt në shkollë'",
            "Takime me prindër dhe mësues në 12 shkolla të Tiranës dhe Durrësit, në kuadër të fushatës kombëtare.",
            "subscriber_awareness", "done", date(2026, 2, 9), date(2026, 2, 28), ["Z6"],
            [("Shtrirja e fushatës (persona)", "15000"), ("Shkolla të vizituara", "12")], None,
        ),
        (
            "Pika kontakti 24/7 për Policinë e Shtetit",
            "Turn i përhershëm i zyrës së abuzimeve me numër të dedikuar për Sektorin kundër Krimeve Kibernetike.",
            "cooperation", "in_progress", date(2026, 3, 1), None, ["Z5"],
            [("Kërkesa të trajtuara", "14")], None,
        ),
    ],
}


async def _ensure_measures(slug: str, version_label: str) -> None:
    """Log the demo measures of ``slug`` that belong to ``version_label`` (the version it signed then)."""
    tenant = await _tenant(slug)
    actor = await _actor(f"officer@{slug}.demo.al")
    if tenant is None or actor is None:
        return
    state = await services.signing_state(tenant["id"])
    if state.active is None or state.active["version_label"] != version_label:
        return
    commitments = await services.commitments_of(state.active["version"])
    for title, description, category, status, start, end, codes, indicators, evidence in DEMO_MEASURES[slug]:
        if ("2025.1" if start.year < 2026 else "2026.1") != version_label:
            continue
        async with system_transaction():
            if await Measure.exists().where((Measure.tenant == tenant["id"]) & (Measure.title == title)):
                continue
        data = MeasureInput(
            title=title, description=description, category=category, status=status, start_date=start.isoformat(),
            end_date=end.isoformat() if end else "", commitment_ids=[str(c["id"]) for c in commitments if c["code"] in codes],
            indicators=indicators,
        )
        files = [Upload(filename=evidence[0], data=evidence[1].encode("utf-8"))] if evidence else []
        await measures.create_measure(tenant, data, files, actor)


async def load() -> None:
    """Create whatever part of the demo Code of Conduct is missing."""
    regulator = await _tenant("akcesk")
    actor = await _actor("admin@akcesk.demo.al")
    if regulator is None or actor is None:
        return
    first = await _ensure_version(regulator, actor, "2025.1", _commitment_rows(CHANGED_IN_2025, drop=("Z8",)), publish=True)
    if first["status"] == "published":  # only until 2026.1 replaces it, i.e. on the first load
        await _ensure_signature("albanet", first, "Arta Leka", "Drejtore Ekzekutive", _at(2025, 3, 10))
        await _ensure_signature("adriatik", first, "Erion Gjini", "Drejtor i Përgjithshëm", _at(2025, 4, 2))
        await _ensure_measures("albanet", "2025.1")
    second = await _ensure_version(regulator, actor, "2026.1", _commitment_rows({}), publish=True)
    if second["status"] == "published":
        await _ensure_signature("albanet", second, "Arta Leka", "Drejtore Ekzekutive", _at(2026, 2, 5))
        await _ensure_signature("shqiponja", second, "Gentian Shehu", "Administrator", _at(2026, 2, 20))
        await _ensure_measures("albanet", "2026.1")
        await _ensure_measures("shqiponja", "2026.1")
    if await services.draft_version() is None and not await CodeVersion.exists().where(CodeVersion.label == "2027.1"):
        await _ensure_version(regulator, actor, "2027.1", _commitment_rows(CHANGED_IN_2027), publish=False)
    # Move publication dates back so the history reads as it would have happened.
    async with system_transaction():
        await CodeVersion.update(
            {CodeVersion.published_at: _at(2025, 2, 1), CodeVersion.superseded_at: _at(2026, 1, 15)}
        ).where((CodeVersion.label == "2025.1") & (CodeVersion.status == "superseded"))
        await CodeVersion.update({CodeVersion.published_at: _at(2026, 1, 15)}).where(
            (CodeVersion.label == "2026.1") & (CodeVersion.status != "draft")
        )
