"""The schedule for one person: done, due, overdue and upcoming doses, and what to discuss."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from carnet.vaccination.planner import schedule_status
from carnet.vaccination.referential import referential
from carnet.vaccination.schedule import add_months, age_in_months, schedule
from carnet.vaccination.schemas import DoseStatus, Requirement, ScheduleStatus

TODAY = date(2026, 11, 26)


@dataclass(frozen=True)
class Given:
    id: str
    occurred_on: date
    diseases: tuple[str, ...]


def given(vaccine: str, on: date) -> Given:
    return Given(f"{vaccine}-{on}", on, referential().vaccines[vaccine].diseases)


def statuses(status: ScheduleStatus) -> dict[str, DoseStatus]:
    return {dose.key: dose.status for dose in status.doses}


def test_every_disease_of_the_schedule_has_a_vaccine() -> None:
    covered = {d for v in referential().vaccines.values() for d in v.diseases}
    plan = schedule()
    named = {d for item in plan.items for d in item.diseases}
    named |= {d for discussion in plan.discuss for d in discussion.diseases}
    assert named <= covered
    for disease in ("diphterie", "hib", "hepatite-b", "meningocoque-b", "zona", "vrs"):
        assert disease in named


def test_ages_keep_the_day_or_take_the_month_s_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 11, 20), 24) == date(2026, 11, 20)
    assert age_in_months(date(2024, 11, 20), date(2026, 11, 19)) == 23
    assert age_in_months(date(2024, 11, 20), date(2026, 11, 20)) == 24


def test_a_newborn_has_the_mandatory_infant_series_upcoming() -> None:
    birth = date(2026, 11, 1)
    status = schedule_status(birth_date=birth, sex="female", vaccinations=[], today=TODAY)
    assert status.done == status.due == status.overdue == ()
    first = {d.key: d for d in status.upcoming}
    hexavalent = first["dtcap-hib-hepb-nourrisson/1"]
    assert hexavalent.due_from == date(2027, 1, 1)  # 2 months
    assert hexavalent.mandatory and hexavalent.requirement is Requirement.MANDATORY
    # Born in 2026: meningococcus B and ACWY are mandatory, C is not in the schedule any more.
    assert first["meningocoque-b-nourrisson/1"].mandatory
    assert first["meningocoque-acwy-nourrisson/1"].due_from == date(2027, 5, 1)
    assert not any(key.startswith("meningocoque-c") for key in first)
    assert first["ror/1"].due_from == date(2027, 11, 1)
    assert not first["rotavirus/1"].mandatory  # recommended only
    # Nothing for adults, and the targeted ones are to discuss, not due.
    assert not any(key.startswith(("grippe", "hpv", "dtp-adulte")) for key in first)
    assert {"hepatite-b-naissance", "bcg", "nirsevimab"} <= {t.item for t in status.to_discuss}


def test_a_two_year_old_with_some_doses() -> None:
    birth = date(2024, 11, 20)
    shots = [
        given("hexavalent", date(2025, 1, 20)),
        given("pneumocoque-conjugue", date(2025, 1, 20)),
        given("hexavalent", date(2025, 3, 20)),
        given("pneumocoque-conjugue", date(2025, 3, 20)),
        given("meningocoque-c", date(2025, 4, 22)),
        given("ror", date(2025, 11, 21)),
    ]
    status = schedule_status(birth_date=birth, sex="male", vaccinations=shots, today=TODAY)
    found = statuses(status)
    assert found["dtcap-hib-hepb-nourrisson/1"] is DoseStatus.DONE
    assert found["dtcap-hib-hepb-nourrisson/2"] is DoseStatus.DONE
    # The 11-month booster is late, but can still be caught up.
    assert found["dtcap-hib-hepb-nourrisson/3"] is DoseStatus.OVERDUE
    assert found["ror/1"] is DoseStatus.DONE
    assert found["ror/2"] is DoseStatus.OVERDUE
    done = {d.key: d for d in status.done}
    assert done["ror/1"].done_on == date(2025, 11, 21)
    assert done["ror/1"].immunization_id == "ror-2025-11-21"
    assert done["meningocoque-c-nourrisson/1"].mandatory  # born 2018-2024: MenC
    # Past 2 years: the pneumococcal booster and rotavirus are no longer caught up.
    assert "pneumocoque-nourrisson/3" not in found
    assert not any(key.startswith("rotavirus") for key in found)
    assert found["dtcap-6-ans/1"] is DoseStatus.UPCOMING
    assert all(d.mandatory for d in status.doses if d.item == "ror")


def test_two_vaccines_the_same_day_count_as_one_injection() -> None:
    birth = date(2025, 3, 1)
    day = date(2025, 5, 2)
    shots = [given("pentavalent", day), given("hepatite-b", day)]
    status = schedule_status(birth_date=birth, sex="male", vaccinations=shots, today=TODAY)
    assert statuses(status)["dtcap-hib-hepb-nourrisson/1"] is DoseStatus.DONE


def test_an_adult_of_65() -> None:
    birth = date(1961, 5, 3)
    shots = [given("grippe", date(2025, 10, 20)), given("zona", date(2026, 9, 1))]
    status = schedule_status(birth_date=birth, sex="female", vaccinations=shots, today=TODAY)
    found = statuses(status)
    # Last year's influenza dose does not count for this campaign.
    assert found["grippe-65/2026"] is DoseStatus.DUE
    assert found["covid-19-65/2026"] is DoseStatus.DUE
    assert found["pneumocoque-65/1"] is DoseStatus.DUE
    assert found["zona-65/1"] is DoseStatus.DONE
    zona = {d.key: d for d in status.doses}["zona-65/2"]
    assert zona.status is DoseStatus.DUE and zona.due_from == date(2026, 11, 1)
    assert found["dtp-adulte/2"] is DoseStatus.DUE  # the 65 booster
    assert "dtp-adulte/1" not in found  # the 45 booster is superseded by the 65 one
    assert not any(key.startswith(("hpv", "ror", "rotavirus")) for key in found)
    assert [t.item for t in status.to_discuss] == ["vrs-65-74"]


def test_a_senior_vaccinated_this_campaign_and_the_next_campaign() -> None:
    birth = date(1950, 1, 10)
    shots = [given("grippe", date(2026, 10, 20))]
    status = schedule_status(birth_date=birth, sex="male", vaccinations=shots, today=TODAY)
    assert statuses(status)["grippe-65/2026"] is DoseStatus.DONE
    summer = schedule_status(
        birth_date=birth, sex="male", vaccinations=shots, today=date(2027, 6, 1)
    )
    upcoming = {d.key: d for d in summer.upcoming}
    assert upcoming["grippe-65/2027"].due_from == date(2027, 10, 15)
    assert statuses(summer)["dtp-adulte/3"] is DoseStatus.OVERDUE  # the 75 booster


def test_a_fourteen_year_old_and_hpv() -> None:
    birth = date(2012, 6, 1)
    status = schedule_status(birth_date=birth, sex="male", vaccinations=[], today=TODAY)
    found = {d.key: d for d in status.doses}
    # HPV is for boys too: started before 15, two doses.
    assert found["hpv/1"].status is DoseStatus.DUE
    assert found["hpv/2"].status is DoseStatus.UPCOMING
    assert "hpv/3" not in found
    assert found["meningocoque-acwy-adolescent/1"].status is DoseStatus.DUE
    assert found["dtcap-11-13-ans/1"].status is DoseStatus.OVERDUE
    first = [given("hpv", date(2026, 9, 1))]
    started = schedule_status(birth_date=birth, sex="male", vaccinations=first, today=TODAY)
    doses = {d.key: d for d in started.doses}
    assert doses["hpv/1"].status is DoseStatus.DONE
    assert doses["hpv/2"].due_from == date(2027, 3, 1)  # six months after the first


def test_hpv_started_at_16_takes_three_doses_as_catch_up() -> None:
    birth = date(2010, 1, 15)
    shots = [given("hpv", date(2026, 6, 1))]
    status = schedule_status(birth_date=birth, sex="female", vaccinations=shots, today=TODAY)
    hpv = [d for d in status.doses if d.item == "hpv"]
    assert [d.number for d in hpv] == [1, 2, 3]
    assert all(d.requirement is Requirement.CATCH_UP for d in hpv)
    assert hpv[1].status is DoseStatus.DUE
    assert hpv[1].due_from == date(2026, 8, 1)  # two months after the first
    assert hpv[2].status is DoseStatus.UPCOMING
    assert "grossesse-coqueluche" in {t.item for t in status.to_discuss}


def test_a_dose_too_early_does_not_count() -> None:
    birth = date(2026, 1, 5)
    shots = [given("ror", date(2026, 6, 1))]  # at 5 months: counts for dose 1 only
    status = schedule_status(birth_date=birth, sex="female", vaccinations=shots, today=TODAY)
    assert statuses(status)["ror/1"] is DoseStatus.DONE
    assert statuses(status)["ror/2"] is DoseStatus.UPCOMING
