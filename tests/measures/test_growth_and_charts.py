"""Growth percentiles against WHO's published values, and the SVG charts' shape."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from tests.measures.measure_space import NOW, open_space
from tests.space import make_holder

from carnet.measures import chart, growth, service
from carnet.runtime import Runtime

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("indicator", "sex", "month", "median"),
    [
        # WHO Child Growth Standards, weight-for-age boys: M at birth and at 12 months.
        ("weight", "male", 0, 3.3464),
        ("weight", "male", 12, 9.6479),
        ("weight", "female", 0, 3.2322),
        # Length-for-age boys at birth; head circumference-for-age girls at birth.
        ("height", "male", 0, 49.8842),
        ("head", "female", 0, 33.8787),
        # WHO Growth Reference 2007: height-for-age boys at 19 years.
        ("height", "male", 228, 176.5432),
    ],
)
def test_the_median_is_the_who_table_m(
    indicator: growth.Indicator, sex: growth.Sex, month: int, median: float
) -> None:
    assert growth.percentile_value(indicator, sex, month, 50) == pytest.approx(median)


def test_percentiles_follow_the_lms_formula() -> None:
    # Boys' weight at 12 months: L = 0.0644, M = 9.6479, S = 0.10925. WHO's table gives
    # P3 = 7.8 kg and P97 = 11.8 kg (rounded to 0.1 kg); -2 SD = 7.7 kg, +2 SD = 12.0 kg.
    assert growth.percentile_value("weight", "male", 12, 3) == pytest.approx(7.8, abs=0.05)
    assert growth.percentile_value("weight", "male", 12, 97) == pytest.approx(11.8, abs=0.05)
    lms = growth.lms_at("weight", "male", 12)
    assert lms is not None
    assert lms.value_at(-2) == pytest.approx(7.7, abs=0.05)
    assert lms.value_at(2) == pytest.approx(12.0, abs=0.05)
    assert lms.z_score(lms.value_at(1.3)) == pytest.approx(1.3)


def test_ages_between_months_are_interpolated_and_outside_the_reference_refused() -> None:
    middle = growth.lms_at("weight", "male", 0.5)
    assert middle is not None
    assert middle.m == pytest.approx((3.3464 + 4.4709) / 2)
    assert growth.lms_at("weight", "male", 121) is None  # weight-for-age stops at 10 years
    assert growth.lms_at("head", "female", -1) is None


def test_the_reference_data_names_its_source() -> None:
    source = (growth.DATA.parent / "growth_who.SOURCE.txt").read_text(encoding="utf-8")
    assert "WHO Child Growth Standards" in source and "2007" in source
    with growth.DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["indicator"] for r in rows} == {"weight", "height", "bmi", "head"}


def test_a_childs_measures_are_placed_on_their_growth_chart(rt: Runtime) -> None:
    holder = make_holder(rt, birth_date="2025-11-26", sex="male")
    with rt.database.engine.connect() as conn, conn.begin() as trans:
        space = open_space(rt, conn, holder)
        birth = datetime(2025, 11, 26, 8, tzinfo=UTC)
        for days, kg in ((0, "3,35"), (365, "9,65")):
            service.add_measure(
                space.repo,
                patient_id=space.pid,
                slug="poids",
                value=kg,
                when=birth + timedelta(days=days),
                now=NOW,
            )
        child = growth.child_of(space.repo, patient_id=space.pid)
        assert child == growth.Child(birth=date(2025, 11, 26), sex="male")
        made = growth.growth_chart(
            space.repo,
            patient_id=space.pid,
            indicator="weight",
            child=child,
            today=date(2026, 11, 26),
        )
        trans.rollback()
    assert made.last_month == 24
    assert [round(p.percentile) for p in made.points] == [50, 50]
    assert set(made.curves) == {3, 15, 50, 85, 97}
    assert made.curves[50][12][1] == pytest.approx(9.6479)


def test_no_growth_chart_without_a_known_sex(rt: Runtime) -> None:
    holder = make_holder(rt, sex="unknown")
    with rt.database.engine.connect() as conn, conn.begin() as trans:
        assert (
            growth.child_of(open_space(rt, conn, holder).repo, patient_id=holder.patient_id) is None
        )
        trans.rollback()


def test_the_svg_is_well_formed_named_and_holds_every_point() -> None:
    points = [(0.0, 70.0), (10.0, 71.5), (20.0, 69.0)]
    drawn = chart.Chart(
        lines=[chart.Line(points, labels=["a", "b", "c & d"])],
        x_ticks=[(0.0, "01/11/26"), (20.0, "21/11/26")],
        band=(65.0, 70.0),
    )
    text = chart.render(drawn, title="Poids <kg>", desc="3 mesures", ident="g")
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "g-titre g-desc"
    assert root.find(f"{SVG}title").text == "Poids <kg>"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "3 mesures"  # type: ignore[union-attr]
    circles = root.findall(f".//{SVG}circle")
    assert [c.get("data-value") for c in circles] == ["70", "71.5", "69"]
    assert root.findall(f".//{SVG}polyline")
    assert "style" not in text  # the CSP forbids style attributes


def test_ticks_are_round_numbers() -> None:
    assert chart.nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert chart.nice_ticks(63.2, 71.9)[0] <= 63.2
    assert chart.nice_ticks(5, 5)  # a single value still gets an axis
