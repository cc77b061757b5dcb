"""Bar charts as server-rendered SVG: attributes only (no inline style, so the CSP holds), a title and a text
description for screen readers, the figures written on the bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
BAR_GAP = 4
LABEL_WIDTH = 150
ROW = 22
COLOURS = ("#1d4f91", "#b34700", "#2e6b30")  # each ≥ 4.5:1 against white, for the figures written beside them


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def horizontal_bars(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """One row per label, one bar per series in that row."""
    biggest = max([1, *(v for s in series for v in s.values)])
    per_label = ROW * len(series) + 8
    height = per_label * len(labels) + 30
    span = WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" class="chart"><title>{escape(title)}</title>'
    ]
    descriptions = []
    for row, label in enumerate(labels):
        top = row * per_label
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{top + ROW - 6}" text-anchor="end" font-size="13" fill="#1a1a1a">'
            f"{escape(label)}</text>"
        )
        figures = []
        for index, current in enumerate(series):
            value = current.values[row]
            width = round(span * value / biggest)
            y = top + index * ROW
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{max(width, 1)}" height="{ROW - BAR_GAP}" '
                f'fill="{colour}"/>'
                f'<text x="{LABEL_WIDTH + width + 4}" y="{y + ROW - 6}" font-size="12" fill="{colour}">{value}</text>'
            )
            figures.append(f"{current.name} {value}")
        descriptions.append(f"{label} : {', '.join(figures)}")
    legend_y = height - 10
    for index, current in enumerate(series):
        x = LABEL_WIDTH + index * 160
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{legend_y}" font-size="12" fill="#1a1a1a">{escape(current.name)}</text>'
        )
    parts.append(f"<desc>{escape('. '.join(descriptions))}</desc></svg>")
    return Markup("".join(parts))  # noqa: S704 — every piece of text above went through escape()


def fill_bar(seated: int, capacity: int, waiting: int) -> Markup:
    """A workshop's fill: seats taken out of capacity, as a small bar (the figures are written beside it)."""
    width = 100
    taken = round(width * min(seated, capacity) / capacity) if capacity else 0
    colour = "#b34700" if seated >= capacity else "#1d4f91"
    label = f"{seated} inscrits sur {capacity}" + (f", {waiting} en attente" if waiting else "")
    return Markup(  # noqa: S704 — numbers and a fixed sentence only
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fill" viewBox="0 0 {width} 10" width="{width}" height="10" '
        f'role="img" aria-label="{escape(label)}"><rect width="{width}" height="10" fill="#e3e6ea"/>'
        f'<rect width="{taken}" height="10" fill="{colour}"/></svg>'
    )
