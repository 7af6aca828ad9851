"""The Code's text as data: normalisation, the canonical form that is hashed, word diffs, safe Markdown."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

LANGUAGES = ("sq", "en")
COMMITMENT_TEXT_FIELDS = ("title_sq", "title_en", "text_sq", "text_en")


def normalise_text(value: str | None) -> str:
    """One spelling of the same text: Unix line ends, no trailing spaces, no outer blank lines.

    Applied when text is saved and again when it is hashed, so a browser that sends CRLF or a
    stray trailing space cannot give the same wording two different hashes.
    """
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def ordered_commitments(commitments: list[dict]) -> list[dict]:
    return sorted(commitments, key=lambda c: (c["position"], c["code"]))


def canonical_document(version: dict, commitments: list[dict]) -> dict:
    """Everything a signatory agrees to, and nothing else (no ids, dates or status)."""
    return {
        "document": "Kodi i Sjelljes për Sigurinë në Internet / Code of Conduct for Internet Safety",
        "label": normalise_text(version["label"]),
        "title": {lang: normalise_text(version[f"title_{lang}"]) for lang in LANGUAGES},
        "body": {lang: normalise_text(version[f"body_{lang}"]) for lang in LANGUAGES},
        "commitments": [
            {
                "code": normalise_text(c["code"]),
                "title": {lang: normalise_text(c[f"title_{lang}"]) for lang in LANGUAGES},
                "text": {lang: normalise_text(c[f"text_{lang}"]) for lang in LANGUAGES},
            }
            for c in ordered_commitments(commitments)
        ],
    }


def canonical_text(version: dict, commitments: list[dict]) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 letters kept as they are: one byte string per text."""
    return json.dumps(
        canonical_document(version, commitments), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def content_hash(version: dict, commitments: list[dict]) -> str:
    return hashlib.sha256(canonical_text(version, commitments).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Segment:
    """A run of words in a diff: ``equal``, ``insert`` (only in the new text) or ``delete`` (only in the old)."""

    op: str
    text: str


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level differences, whitespace kept so the result reads like the text itself."""
    old_tokens = _TOKENS.findall(old or "")
    new_tokens = _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    segments: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", "".join(new_tokens[b1:b2]))
        else:
            add("delete", "".join(old_tokens[a1:a2]))
            add("insert", "".join(new_tokens[b1:b2]))
    return segments


def _build_markdown() -> MarkdownIt:
    # CommonMark with raw HTML switched off: "<script>" in a body is shown as text, never run.
    # Images are off too: the Code must not make readers' browsers fetch anything from elsewhere.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

    def link_open(renderer, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_markdown = _build_markdown()


def render_markdown(text: str | None) -> Markup:
    """HTML for a Markdown text typed by a regulator; headings start at h3 to sit under the page's own."""
    tokens = _markdown.parse(text or "")
    for token in tokens:
        if token.type in {"heading_open", "heading_close"}:
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
    return Markup(_markdown.renderer.render(tokens, _markdown.options, {}))  # noqa: S704 (escaped by markdown-it)
