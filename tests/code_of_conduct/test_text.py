"""The canonical text and its hash, word diffs, and Markdown that cannot carry script."""

import hashlib
import json

from portal.code_of_conduct.text import canonical_text, content_hash, normalise_text, render_markdown, word_diff

VERSION = {
    "label": "2026.1", "title_sq": "Kodi i Sjelljes", "title_en": "Code of Conduct",
    "body_sq": "Hyrje.\n\n- një\n- dy", "body_en": "Preamble.\n\n- one\n- two",
}
COMMITMENTS = [
    {"id": 7, "position": 2, "code": "Z2", "title_sq": "Kanale raportimi", "title_en": "Reporting channels",
     "text_sq": "Ofron kanal.", "text_en": "Offers a channel."},
    {"id": 3, "position": 1, "code": "Z1", "title_sq": "Bllokimi", "title_en": "Blocking",
     "text_sq": "Bllokon brenda 24 orëve.", "text_en": "Blocks within 24 hours."},
]


def test_hash_is_the_sha256_of_the_canonical_text():
    text = canonical_text(VERSION, COMMITMENTS)
    assert content_hash(VERSION, COMMITMENTS) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    document = json.loads(text)
    assert [c["code"] for c in document["commitments"]] == ["Z1", "Z2"]
    assert document["title"] == {"sq": "Kodi i Sjelljes", "en": "Code of Conduct"}
    assert "ë" in text  # Albanian letters are kept, not escaped


def test_hash_does_not_depend_on_row_order_ids_line_ends_or_trailing_spaces():
    reference = content_hash(VERSION, COMMITMENTS)
    shuffled = [dict(reversed(list(c.items()))) | {"id": c["id"] + 100} for c in reversed(COMMITMENTS)]
    windows = VERSION | {"body_sq": "Hyrje.  \r\n\r\n- një\r\n- dy\r\n", "title_en": "Code of Conduct "}
    assert content_hash(windows, shuffled) == reference
    assert content_hash(dict(reversed(list(VERSION.items()))), COMMITMENTS) == reference


def test_any_change_of_wording_order_or_label_changes_the_hash():
    reference = content_hash(VERSION, COMMITMENTS)
    reworded = [COMMITMENTS[0], COMMITMENTS[1] | {"text_en": "Blocks within 12 hours."}]
    reordered = [COMMITMENTS[0] | {"position": 0}, COMMITMENTS[1]]
    assert content_hash(VERSION, reworded) != reference
    assert content_hash(VERSION, reordered) != reference
    assert content_hash(VERSION | {"label": "2026.2"}, COMMITMENTS) != reference
    assert content_hash(VERSION | {"body_sq": "Hyrje!\n\n- një\n- dy"}, COMMITMENTS) != reference


def test_normalise_text():
    assert normalise_text("  a  \r\nb\t\r\n\r\n") == "a\nb"
    assert normalise_text(None) == ""


def test_word_diff_marks_inserted_and_deleted_words():
    segments = word_diff("Block listed URLs within 48 hours.", "Block all listed URLs within 12 hours.")
    assert [(s.op, s.text) for s in segments] == [
        ("equal", "Block"), ("insert", " all"), ("equal", " listed URLs within "), ("delete", "48"),
        ("insert", "12"), ("equal", " hours."),
    ]
    assert "".join(s.text for s in segments if s.op != "delete") == "Block all listed URLs within 12 hours."
    assert "".join(s.text for s in segments if s.op != "insert") == "Block listed URLs within 48 hours."


def test_markdown_is_rendered_without_html_scripts_or_images():
    html = str(render_markdown(
        "# Titull\n\n**i rëndësishëm** <script>alert(1)</script> <b onclick=x>b</b>\n\n"
        "[keq](javascript:alert(1)) [mirë](https://isigurt.al) ![img](https://evil.example/x.png)"
    ))
    assert "<h3>Titull</h3>" in html
    assert "<strong>i rëndësishëm</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b onclick" not in html
    assert 'href="javascript' not in html
    assert '<a href="https://isigurt.al" rel="noopener noreferrer nofollow">mirë</a>' in html
    assert "<img" not in html
