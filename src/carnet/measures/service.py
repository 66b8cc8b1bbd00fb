"""Public face of the measures area: what the portal (and any other area) may call.

Recording, history, deletion and targets (``recording``), growth against the WHO references
(``growth``), the SVG renderer (``chart``) and the catalogue of measures (``catalogue``), in
one place. Every function that touches data takes the record's Repository first, is
keyword-only and never commits.
"""

from __future__ import annotations

from carnet.measures.catalogue import BY_SLUG, GLUCOSE_UNITS, MEASURES, MOMENTS, Measure
from carnet.measures.chart import CURVE_COLOUR, Chart, Line, render
from carnet.measures.growth import (
    CHILD_MONTHS,
    INDICATORS,
    Child,
    GrowthChart,
    GrowthPoint,
    Indicator,
    age_in_months,
    child_of,
    growth_chart,
    percentile_value,
)
from carnet.measures.recording import (
    MAX_COMMENT,
    add_measure,
    bmi_series,
    delete_measure,
    latest_measures,
    measure_of,
    measure_page,
    measure_series,
    parse_number,
    set_target,
    target_of,
)

__all__ = [
    "BY_SLUG",
    "CHILD_MONTHS",
    "CURVE_COLOUR",
    "GLUCOSE_UNITS",
    "INDICATORS",
    "MAX_COMMENT",
    "MEASURES",
    "MOMENTS",
    "Chart",
    "Child",
    "GrowthChart",
    "GrowthPoint",
    "Indicator",
    "Line",
    "Measure",
    "add_measure",
    "age_in_months",
    "bmi_series",
    "child_of",
    "delete_measure",
    "growth_chart",
    "latest_measures",
    "measure_of",
    "measure_page",
    "measure_series",
    "parse_number",
    "percentile_value",
    "render",
    "set_target",
    "target_of",
]
