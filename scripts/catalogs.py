"""Extract translatable strings per feature and update its Albanian catalog.

Usage: python scripts/catalogs.py [--check]

Each feature package keeps ``locale/sq/LC_MESSAGES/messages.po``; its strings come from the
package's Python code and from ``templates/components/<feature>/``. Shared strings (core, layout,
ui) live in ``portal/core``. Existing translations are kept; new strings are added empty and
``--check`` (used by the tests) lists every string that has no Albanian text yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "portal"
COMPONENTS = ROOT / "templates" / "components"
SHARED_COMPONENT_FOLDERS = {"layout", "ui"}
METHOD_MAP = [("**.py", "python"), ("**.jinja", "jinja2")]
OPTIONS = {"**.jinja": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}


def feature_sources() -> dict[Path, list[Path]]:
    """Map each catalog-owning package to the folders its strings come from."""
    sources: dict[Path, list[Path]] = {PACKAGE / "core": [PACKAGE / "core", PACKAGE]}
    for package in sorted(p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if package.name == "core":
            continue
        sources[package] = [package]
    for folder in sorted(p for p in COMPONENTS.iterdir() if p.is_dir()):
        owner = PACKAGE / "core" if folder.name in SHARED_COMPONENT_FOLDERS else PACKAGE / folder.name
        sources.setdefault(owner, [owner]).append(folder)
    return sources


def extract(package: Path, folders: list[Path]) -> Catalog:
    catalog = Catalog(locale="sq", project="portal", charset="utf-8")
    for folder in folders:
        only_top = folder == PACKAGE  # the top-level modules (app.py, cli.py, api.py, ...), not sub-packages
        for filename, lineno, message, comments, context in extract_from_dir(
            folder, METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS
        ):
            if only_top and "/" in filename:
                continue
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            catalog.add(message, None, [(str((folder / filename).relative_to(ROOT)), lineno)], auto_comments=comments)
    return catalog


def update(check_only: bool) -> list[str]:
    missing: list[str] = []
    for package, folders in feature_sources().items():
        template = extract(package, folders)
        po_path = package / "locale" / "sq" / "LC_MESSAGES" / "messages.po"
        if not len(template) and not po_path.exists():
            continue
        if po_path.exists():
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale="sq")
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            catalog = template
        for message in catalog:
            if message.id and (not message.string or (isinstance(message.string, tuple) and not all(message.string))):
                missing.append(f"{po_path.relative_to(ROOT)}: {message.id!r}")
        if not check_only:
            po_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("wb") as handle:
                write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    return missing


if __name__ == "__main__":
    check = "--check" in sys.argv
    untranslated = update(check_only=check)
    for line in untranslated:
        print(line)
    print(f"{len(untranslated)} strings without an Albanian translation")
    sys.exit(1 if (check and untranslated) else 0)
