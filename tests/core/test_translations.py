"""Albanian first: every string the portal can show has an Albanian translation."""

from __future__ import annotations

import importlib.util

from portal.core.settings import PROJECT_ROOT


def load_catalog_script():
    spec = importlib.util.spec_from_file_location("portal_catalogs", PROJECT_ROOT / "scripts" / "catalogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_translatable_string_has_an_albanian_translation():
    catalogs = load_catalog_script()
    before = {path: path.read_bytes() for path in (PROJECT_ROOT / "portal").glob("*/locale/sq/LC_MESSAGES/messages.po")}

    missing = catalogs.update(check_only=True)

    assert missing == [], "run `python scripts/catalogs.py` and translate:\n" + "\n".join(missing)
    after = {path: path.read_bytes() for path in (PROJECT_ROOT / "portal").glob("*/locale/sq/LC_MESSAGES/messages.po")}
    assert after == before, "a check must not rewrite the catalogs"


async def test_pages_are_albanian_by_default_and_english_on_request(client):
    albanian = await client.get("/login")
    assert 'lang="sq"' in albanian.text
    assert "<h1>Hyr</h1>" in albanian.text
    await client.post("/language", {"language": "en", "next": "/login"})
    english = await client.get("/login")
    assert 'lang="en"' in english.text
    assert "<h1>Sign in</h1>" in english.text
