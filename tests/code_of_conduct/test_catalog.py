"""Every string of the Code of Conduct pages has an Albanian translation."""

import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "portal" / "code_of_conduct" / "locale" / "sq" / "LC_MESSAGES" / "messages.po"


def test_catalog_covers_every_string_in_the_package_and_its_templates():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import catalogs
    finally:
        sys.path.pop(0)
    package = catalogs.PACKAGE / "code_of_conduct"
    extracted = catalogs.extract(package, catalogs.feature_sources()[package])
    with CATALOG.open("rb") as handle:
        translated = {m.id: m.string for m in read_po(handle, locale="sq") if m.id}
    missing = [m.id for m in extracted if m.id and not translated.get(m.id)]
    assert missing == []
