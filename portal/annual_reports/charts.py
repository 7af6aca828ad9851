"""Server-rendered SVG charts: plain markup, no script, labels escaped, readable without colour.

Each chart carries a <title> and an aria-label; the page shows the table behind it next to it.
"""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#2f6690"
BAR_2 = "#9dc3e6"
LINE = "#b23a48"
INK = "#1f2933"
GRID = "#d9e2ec"


def _number(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text


def _scale_max(values: list[float]) -> float:
    top = max([v for v in values if v is not None] or [0])
    if top <= 4:
        return 4
    magnitude = 10 ** (len(str(int(top))) - 1)
    return (int(top / magnitude) + 1) * magnitude


def _open(title: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="ar-chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')


def hbar(title: str, rows: list[tuple[str, float | None, float | None]], *, legend: tuple[str, str] | None = None,
         references: list[tuple[str, float]] | None = None, label_width: int = 190) -> Markup:
    """Horizontal bars, one row per label: (label, value, optional second value drawn thinner below)."""
    references = references or []
    width, bar_h, gap = 720, 18, 14
    plot_w = width - label_width - 60
    values = [v for _label, a, b in rows for v in (a, b) if v is not None] + [v for _n, v in references]
    top = _scale_max(values)
    second = any(b is not None for _l, _a, b in rows)
    row_h = bar_h + (10 if second else 0) + gap
    height = 40 + max(1, len(rows)) * row_h + (24 if legend else 0) + 16
    out = [_open(title, width, height)]
    x0 = label_width
    for i in range(5):
        x = x0 + plot_w * i / 4
        out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 28 - (24 if legend else 0)}" stroke="{GRID}"/>')
        out.append(f'<text x="{x:.1f}" y="16" font-size="11" text-anchor="middle" fill="{INK}">{_number(top * i / 4)}</text>')
    y = 34
    for label, a, b in rows:
        out.append(f'<text x="{x0 - 8}" y="{y + 13}" font-size="12" text-anchor="end" fill="{INK}">{escape(label[:32])}</text>')
        if a is not None:
            w = plot_w * a / top
            out.append(f'<rect x="{x0}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAR}"/>')
            out.append(f'<text x="{x0 + w + 4:.1f}" y="{y + 13}" font-size="11" fill="{INK}">{_number(a)}</text>')
        else:
            out.append(f'<text x="{x0 + 4}" y="{y + 13}" font-size="11" fill="{INK}">—</text>')
        if b is not None:
            w = plot_w * b / top
            out.append(f'<rect x="{x0}" y="{y + bar_h + 1}" width="{w:.1f}" height="8" fill="{BAR_2}"/>')
        y += row_h
    bottom = y
    for name, value in references:
        x = x0 + plot_w * value / top
        out.append(f'<line x1="{x:.1f}" y1="26" x2="{x:.1f}" y2="{bottom}" stroke="{LINE}" stroke-dasharray="5 3" stroke-width="2"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{bottom + 12}" font-size="11" fill="{LINE}">{escape(name)}</text>')
    if legend:
        ly = height - 16
        out.append(f'<rect x="{x0}" y="{ly - 10}" width="12" height="12" fill="{BAR}"/>'
                   f'<text x="{x0 + 16}" y="{ly}" font-size="11" fill="{INK}">{escape(legend[0])}</text>')
        out.append(f'<rect x="{x0 + 260}" y="{ly - 10}" width="12" height="12" fill="{BAR_2}"/>'
                   f'<text x="{x0 + 276}" y="{ly}" font-size="11" fill="{INK}">{escape(legend[1])}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def columns(title: str, points: list[tuple[str, float]]) -> Markup:
    """Vertical columns over a sequence (months, statuses), value printed above each."""
    width, height, left, bottom_pad = 720, 240, 40, 40
    plot_h = height - 30 - bottom_pad
    top = _scale_max([v for _l, v in points])
    step = (width - left - 10) / max(1, len(points))
    out = [_open(title, width, height)]
    for i in range(5):
        y = 30 + plot_h * (1 - i / 4)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="{INK}">{_number(top * i / 4)}</text>')
    for index, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = left + index * step + step * 0.15
        w = step * 0.7
        y = 30 + plot_h - h
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{BAR}"/>')
        out.append(f'<text x="{x + w / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" fill="{INK}">{_number(value)}</text>')
        out.append(f'<text x="{x + w / 2:.1f}" y="{height - bottom_pad + 16}" font-size="11" text-anchor="middle" '
                   f'fill="{INK}">{escape(label[:22])}</text>')
    out.append("</svg>")
    return Markup("".join(out))
