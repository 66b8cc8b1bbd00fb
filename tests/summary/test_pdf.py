"""The PDF summary: only the sections chosen, what each holds, and the person's own data only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.space import make_holder
from tests.summary import records
from tests.summary.pdf_text import pdf_lines, pdf_text
from tests.summary.records import space

from carnet.core.errors import NotFound
from carnet.runtime import Runtime
from carnet.summary.errors import NoSectionChosen, UnknownSection
from carnet.summary.pdf import render_pdf
from carnet.summary.reading import read_sections
from carnet.summary.schemas import Section, SummaryContent
from carnet.summary.service import build_pdf, parse_sections

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _pdf(repo: object, patient_id: str, *sections: Section) -> str:
    pdf = build_pdf(repo, patient_id=patient_id, sections=sections, now=NOW, compress=False)  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF-")
    return pdf_text(pdf)


def test_the_pdf_holds_the_chosen_sections_only(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with space(rt, pid) as repo:
        for resource in (
            records.immunization(pid),
            records.allergy(pid),
            records.medication(pid),
            records.blood_group(pid),
            records.not_concerned(pid, "FAMILY_HISTORY"),
        ):
            repo.create(resource)
        text = _pdf(
            repo,
            pid,
            Section.LIFESTYLES,
            Section.VACCINES,
            Section.ALLERGIES,
            Section.FAMILY_HISTORY,
        )
        assert "Synthèse du profil médical" in text
        assert "Camille MARTIN" in text
        assert "12/03/1984" in text
        assert "26/11/2026 à 10:30" in text  # Paris time
        assert "Vaccin DTP — 03/05/2020 — lot AB12" in text
        assert "Pénicilline" in text
        assert "Antécédents familiaux\nNon concerné." in text
        assert "Habitudes de vie\nRien de déclaré." in text
        assert text.index("Vaccinations") < text.index("Allergies") < text.index("Habitudes de vie")
        for absent in ("Traitements", "Lévothyrox", "Groupe sanguin", "A+"):
            assert absent not in text


def test_measures_keep_the_latest_value_and_disabilities_stand_apart(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with space(rt, pid) as repo:
        repo.create(records.weight(pid, 70.5, "2024-01-01"))
        repo.create(records.weight(pid, 68, "2025-06-01"))
        repo.create(records.condition(pid, "Asthme"))
        repo.create(records.condition(pid, "Surdité", disability=True))
        repo.create(records.blood_group(pid))
        _who, sections = read_sections(
            repo,
            patient_id=pid,
            sections=[
                Section.BLOOD_GROUP,
                Section.DISABILITIES,
                Section.MEASURES,
                Section.DISEASES,
            ],
        )
        lines = {s.section: s.lines for s in sections}
        assert [s.section for s in sections] == [
            Section.DISEASES, Section.MEASURES, Section.DISABILITIES, Section.BLOOD_GROUP
        ]  # fmt: skip
        assert lines[Section.MEASURES] == ("Poids — 68 kg — 01/06/2025",)
        assert lines[Section.DISEASES] == ("Asthme — 2019",)
        assert lines[Section.DISABILITIES] == ("Surdité — 2019",)
        assert lines[Section.BLOOD_GROUP] == ("Groupe sanguin — A+",)


def test_a_long_section_lists_the_most_recent_and_says_so(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with space(rt, pid) as repo:
        for year in range(1800, 2002):
            repo.create(records.immunization(pid, f"Vaccin {year}", f"{year}-01-01"))
        text = _pdf(repo, pid, Section.VACCINES)
        assert "Vaccin 2001" in text
        assert "Vaccin 1801" not in text  # the 201st most recent
        assert "Seuls les 200 éléments les plus récents sont listés." in text


def test_someone_elses_space_is_not_found(rt: Runtime) -> None:
    mine, theirs = make_holder(rt), make_holder(rt)
    with space(rt, theirs.patient_id) as theirs_repo:
        theirs_repo.create(records.allergy(theirs.patient_id, "Arachide"))
    with space(rt, mine.patient_id) as repo:
        with pytest.raises(NotFound):
            build_pdf(repo, patient_id=theirs.patient_id, sections=[Section.ALLERGIES], now=NOW)
        assert "Arachide" not in _pdf(repo, mine.patient_id, Section.ALLERGIES)


def test_text_outside_the_fonts_and_markup_is_drawn_plainly(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with space(rt, pid) as repo:
        repo.create(records.allergy(pid, "Chat 🐈 <b>&amp; ŝ"))
        who, sections = read_sections(repo, patient_id=pid, sections=[Section.ALLERGIES])
        content = SummaryContent(identity=who, generated_at=NOW, sections=sections)
        drawn = "".join(pdf_lines(render_pdf(content, compress=False)))
        assert "Chat ? <b>&amp; s" in drawn  # fragments at the escapes, joined
        compressed = render_pdf(content)
        assert compressed.startswith(b"%PDF-")
        assert compressed.rstrip().endswith(b"%%EOF")


def test_sections_are_parsed_strictly() -> None:
    assert parse_sections(["WISHES", "VACCINES", "WISHES"]) == (Section.VACCINES, Section.WISHES)
    with pytest.raises(NoSectionChosen):
        parse_sections([])
    with pytest.raises(UnknownSection):
        parse_sections(["VACCINES", "SECRETS"])


def test_circle_and_wishes_are_listed(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    mother = {
        "resourceType": "RelatedPerson",
        "patient": {"reference": f"Patient/{pid}"},
        "relationship": [
            {
                "coding": [
                    {"system": "urn:carnet:entourage:relation", "code": "MOTHER"},
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "MTH",
                        "display": "Mère",
                    },
                ]
            }
        ],
        "name": [{"family": "Durand", "given": ["Louise"]}],
        "telecom": [{"system": "phone", "value": "0612345678"}],
    }
    donation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": "urn:carnet:volontes",
                    "code": "INFORME_DON_ORGANES",
                    "display": "Informé(e) des dispositions relatives au don d’organes",
                }
            ]
        },
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2024-02-01",
        "valueBoolean": True,
    }
    with space(rt, pid) as repo:
        repo.create(mother)
        repo.create(donation)
        text = _pdf(repo, pid, Section.ENTOURAGE_CONTACT, Section.WISHES)
    assert "Louise DURAND — Mère — 0612345678" in text
    assert "Informé(e) des dispositions relatives au don d’organes — oui — 01/02/2024" in text
