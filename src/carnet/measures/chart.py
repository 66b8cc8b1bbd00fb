"""A small server-side SVG line-chart renderer: no script, no style attribute, no external file.

The portal's Content-Security-Policy forbids inline styles, so every look is an SVG
presentation attribute (``stroke``, ``fill``…), which CSP does not govern. The chart scales to
its container (``viewBox`` with ``width="100%"``), so it works at mobile width. It is an image
for assistive technologies (``role="img"`` named by its ``<title>`` and ``<desc>``); the page
shows the same values as a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 560, 340
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 30, 46
DATA_COLOUR = "#000091"
CURVE_COLOUR = "#666666"
TARGET_COLOUR = "#18753c"


@dataclass(frozen=True, slots=True)
class Line:
    """A series: a polyline, with a dot at each point when ``markers``."""

    points: Sequence[tuple[float, float]]
    colour: str = DATA_COLOUR
    width: float = 2.5
    dash: str = ""
    markers: bool = True
    labels: Sequence[str] = ()
    """A tooltip per point (the value and its date), in the same order."""


@dataclass(frozen=True, slots=True)
class Chart:
    lines: Sequence[Line]
    x_ticks: Sequence[tuple[float, str]] = ()
    """Positions and labels along the horizontal axis (dates, ages)."""
    band: tuple[float | None, float | None] | None = None
    """A target range, drawn as a shaded band with its bounds dashed."""
    y_floor: float | None = None
    end_labels: Sequence[tuple[str, float, float]] = field(default_factory=tuple)
    """Labels written at the right end of curves (``P97`` at its last point)."""
    y_unit: str = ""
    """The unit of the vertical axis, written above it."""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values covering [low, high] (1, 2, 2.5 or 5 × 10^n apart)."""
    if high <= low:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [round(math.floor(low / step) * step, 10)]
    while ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _format_tick(value: float) -> str:
    text = f"{value:,.1f}".replace(",", "\u202f").rstrip("0").rstrip(".")
    return text.replace(".", ",")


class _Scale:
    def __init__(self, chart: Chart) -> None:
        xs = [x for line in chart.lines for x, _y in line.points] + [x for x, _ in chart.x_ticks]
        ys = [y for line in chart.lines for _x, y in line.points]
        ys += [b for b in (chart.band or ()) if b is not None]
        if chart.y_floor is not None:
            ys.append(chart.y_floor)
        self.x0, self.x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
        if self.x1 == self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        ys = ys or [0.0, 1.0]
        spread = (max(ys) - min(ys)) or abs(max(ys)) or 1.0
        self.y_ticks = nice_ticks(min(ys) - spread * 0.05, max(ys) + spread * 0.05)
        self.y0, self.y1 = self.y_ticks[0], self.y_ticks[-1]

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)


def render(chart: Chart, *, title: str, desc: str, ident: str) -> str:
    """The chart as an ``<svg>`` element (well-formed XML), named by ``title`` and ``desc``."""
    scale = _Scale(chart)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%"'
            f' role="img" aria-labelledby="{ident}-titre {ident}-desc" focusable="false"'
            f' font-size="15">'
        ),
        f'<title id="{ident}-titre">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    parts += _grid(chart, scale)
    if chart.band is not None:
        parts += _band(chart.band, scale)
    for line in chart.lines:
        parts += _line(line, scale)
    parts += _end_labels(chart, scale)
    if chart.y_unit:
        parts.append(f'<text x="4" y="16" fill="#3a3a3a">{escape(chart.y_unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _end_labels(chart: Chart, scale: _Scale) -> list[str]:
    """Curve names at their right end, pushed apart so that none overlaps the next."""
    placed: list[tuple[float, float, str]] = sorted(
        (scale.y(y) - 4, scale.x(x) - 2, text) for text, x, y in chart.end_labels
    )
    parts = []
    previous = -math.inf
    for wanted, x, text in placed:
        y = max(wanted, previous + 14)
        previous = y
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" fill="#3a3a3a"'
            f' font-size="13">{escape(text)}</text>'
        )
    return parts


def _grid(chart: Chart, scale: _Scale) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = ['<g stroke="#dddddd" stroke-width="1">']
    parts += [
        f'<line x1="{LEFT}" x2="{right}" y1="{scale.y(tick):.1f}" y2="{scale.y(tick):.1f}"/>'
        for tick in scale.y_ticks
    ]
    parts.append('</g><g fill="#3a3a3a" text-anchor="end">')
    parts += [
        f'<text x="{LEFT - 6}" y="{scale.y(tick) + 4:.1f}">{_format_tick(tick)}</text>'
        for tick in scale.y_ticks
    ]
    parts.append('</g><g fill="#3a3a3a" text-anchor="middle">')
    for value, label in chart.x_ticks:
        x = scale.x(value)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 5}" stroke="#3a3a3a"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{bottom + 20}">{escape(label)}</text>')
    parts.append("</g>")
    parts.append(
        f'<line x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#3a3a3a"/>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}" stroke="#3a3a3a"/>'
    )
    return parts


def _band(band: tuple[float | None, float | None], scale: _Scale) -> list[str]:
    low = scale.y0 if band[0] is None else band[0]
    high = scale.y1 if band[1] is None else band[1]
    top, bottom = scale.y(high), scale.y(low)
    parts = [
        (
            f'<rect x="{LEFT}" y="{top:.1f}" width="{WIDTH - LEFT - RIGHT}"'
            f' height="{bottom - top:.1f}" fill="{TARGET_COLOUR}" fill-opacity="0.12"/>'
        )
    ]
    for bound in band:
        if bound is not None:
            y = scale.y(bound)
            parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
                f' stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            )
    return parts


def _line(line: Line, scale: _Scale) -> list[str]:
    if not line.points:
        return []
    coords = " ".join(f"{scale.x(x):.1f},{scale.y(y):.1f}" for x, y in line.points)
    dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
    parts = [
        (
            f'<polyline points="{coords}" fill="none" stroke="{line.colour}"'
            f' stroke-width="{_number(line.width)}" stroke-linejoin="round"{dash}/>'
        )
    ]
    if line.markers:
        for index, (x, y) in enumerate(line.points):
            tip = line.labels[index] if index < len(line.labels) else ""
            parts.append(
                f'<circle cx="{scale.x(x):.1f}" cy="{scale.y(y):.1f}" r="5.5" fill="{line.colour}"'
                f' stroke="#ffffff" stroke-width="1.5" data-value={quoteattr(_number(y))}>'
                f"<title>{escape(tip)}</title></circle>"
            )
    return parts
