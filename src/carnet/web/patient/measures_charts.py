"""The measures pages' charts: a measure over time, and a child's growth on the WHO curves.

Geometry and SVG come from the measures area's renderer; this module chooses what to draw (dates
or ages along the axis, the target band, the percentile curves) and hands the template a
function that writes the ``<svg>`` with the words the template translated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from markupsafe import Markup

from carnet.measures import service as measures_service
from carnet.measures.schemas import MeasureEntry, Target

_DAY = 86400.0
PERCENTILE_STYLE = {3: "4 3", 15: "2 3", 50: "", 85: "2 3", 97: "4 3"}


def _x(when: datetime) -> float:
    return when.astimezone(UTC).timestamp() / _DAY


def _date_ticks(entries: Sequence[MeasureEntry]) -> list[tuple[float, str]]:
    if not entries:
        return []
    first, last = _x(entries[0].when), _x(entries[-1].when)
    count = 1 if last - first < 1 else min(5, len(entries))
    if count == 1:
        return [(first, entries[0].when.strftime("%d/%m/%Y"))]
    step = (last - first) / (count - 1)
    ticks = []
    for index in range(count):
        x = first + index * step
        ticks.append((x, datetime.fromtimestamp(x * _DAY, UTC).strftime("%d/%m/%y")))
    return ticks


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def measure_chart(entries: Sequence[MeasureEntry], target: Target | None) -> measures_service.Chart:
    """One measure over time (oldest first); blood pressure draws its two values."""
    labels = [
        f"{e.when:%d/%m/%Y} : {_number(e.value)}"
        + (f"/{_number(e.value2)}" if e.value2 is not None else "")
        for e in entries
    ]
    lines = [measures_service.Line([(_x(e.when), e.value) for e in entries], labels=labels)]
    if any(e.value2 is not None for e in entries):
        lines.append(
            measures_service.Line(
                [(_x(e.when), e.value2) for e in entries if e.value2 is not None],
                colour="#6a6af4",
                dash="6 3",
                labels=labels,
            )
        )
    band = None if target is None else (target.low, target.high)
    return measures_service.Chart(lines=lines, x_ticks=_date_ticks(entries), band=band)


def growth_chart(growth: measures_service.GrowthChart) -> measures_service.Chart:
    """The percentile curves (P3 to P97) and the child's measures on them."""
    lines = []
    ends = []
    for percentile, points in growth.curves.items():
        lines.append(
            measures_service.Line(
                points,
                colour="#3a3a3a" if percentile == 50 else measures_service.CURVE_COLOUR,
                width=2 if percentile == 50 else 1.2,
                dash=PERCENTILE_STYLE[percentile],
                markers=False,
            )
        )
        if points:
            ends.append((f"P{percentile}", *points[-1]))
    child = [
        f"{p.when:%d/%m/%Y} : {_number(p.value)} (P{_number(round(p.percentile))})"
        for p in growth.points
    ]
    lines.append(measures_service.Line([(p.months, p.value) for p in growth.points], labels=child))
    in_years = growth.last_month > 36
    step = 12 if in_years else 3
    if growth.last_month > 120:
        step = 24
    ticks = [
        (float(m), str(m // 12) if in_years else str(m))
        for m in range(0, growth.last_month + 1, step)
    ]
    return measures_service.Chart(lines=lines, x_ticks=ticks, end_labels=ends)


def in_years(growth: measures_service.GrowthChart) -> bool:
    """Whether the growth chart's axis counts years (else months)."""
    return growth.last_month > 36


def svg(drawn: measures_service.Chart, title: str, desc: str, ident: str, unit: str = "") -> Markup:
    """The chart's ``<svg>``, for the template (which passes its translated words: the title,
    the description and the vertical axis's unit)."""

    def plain(text: str) -> str:
        # The template's translated words arrive escaped; the renderer escapes them itself.
        return text.unescape() if isinstance(text, Markup) else text

    # Safe: the renderer escapes every text it writes and builds the rest from numbers.
    drawn = dataclasses.replace(drawn, y_unit=plain(unit))
    return Markup(measures_service.render(drawn, title=plain(title), desc=plain(desc), ident=ident))  # noqa: S704
