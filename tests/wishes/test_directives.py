"""Advance directives: the guided form's PDF, stored as a DIR_ANT document; replacing only once
confirmed; refused to minors. And the organ-donation statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
import pytest
from tests.space import make_holder
from tests.wishes.conftest import acting_as
from tests.wishes.pdf_text import pdf_text

from carnet.runtime import Runtime
from carnet.wishes import service as wishes
from carnet.wishes.directives_pdf import Author
from carnet.wishes.errors import DirectivesRefused, InvalidDirectives, ReplacementNotConfirmed
from carnet.wishes.schemas import Act, Choice, Place, Sedation, Situation

Run = Callable[[Callable[..., Any]], Any]
TODAY = date(2026, 11, 26)
FORM = {
    "situation": "maladie-grave",
    "context": "Je vis avec une insuffisance cardiaque sévère.",
    "life_support": "refuse",
    "life_support_details": "Pas de coma prolongé sans espoir de réveil.",
    "sedation": "oui",
    "acte-reanimation": "refuse",
    "acte-dialyse": "accepte",
    "place": "domicile",
    "place_details": "Près de mon jardin, à Quimper.",
    "free_text": "Je souhaite écouter de la musique de Barbara.",
}


def test_the_form_is_read_into_answers_with_every_problem_at_once() -> None:
    answers = wishes.answers_from_form(FORM)
    assert answers.situation is Situation.SERIOUS_ILLNESS
    assert answers.life_support is Choice.REFUSE and answers.sedation is Sedation.WANTED
    assert answers.acts[Act.RESUSCITATION] is Choice.REFUSE
    assert answers.acts[Act.VENTILATION] is Choice.UNDECIDED  # not answered: no opinion
    assert answers.place is Place.HOME
    with pytest.raises(InvalidDirectives) as refused:
        wishes.answers_from_form({"sedation": "peut-etre", "free_text": "x" * 4001})
    assert set(refused.value.problems) == {
        ("situation", "missing"),
        ("sedation", "bad-choice"),
        ("free_text", "too-long"),
    }


def test_the_pdf_carries_the_person_the_date_their_choices_and_a_signature_line() -> None:
    author = Author("Camille", "Martin", date(1984, 3, 12))
    pdf = wishes.render_directives(author, wishes.answers_from_form(FORM), today=TODAY)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in (
        "Mes directives anticipées",
        "Camille MARTIN, né(e) le 12 mars 1984, le 26 novembre 2026",
        "Je vis avec une insuffisance cardiaque sévère.",
        "Je refuse d’être maintenu(e) artificiellement en vie",
        "Pas de coma prolongé sans espoir de réveil.",
        "je veux recevoir une sédation profonde et continue",
        "Réanimation cardiaque et respiratoire Je le refuse",
        "Dialyse (rein artificiel) Je l’accepte",
        "Je souhaite finir ma vie chez moi.",
        "Près de mon jardin, à Quimper.",
        "Je souhaite écouter de la musique de Barbara.",
        "Signature :",
    ):
        assert expected in text, expected


def test_writing_directives_stores_a_dir_ant_document_then_replacing_needs_confirmation(
    run: Run, holder: Any
) -> None:
    answers = wishes.answers_from_form(FORM)
    pid = holder.patient_id
    first = run(
        lambda repo, db: wishes.write_directives(
            repo, db=db, patient_id=pid, answers=answers, today=TODAY
        )
    )
    body = run(lambda repo, _db: orjson.loads(repo.read("DocumentReference", first.id).body))
    assert body["type"]["coding"][0]["code"] == "EXPPAT_3"
    assert body["category"][0]["coding"][0]["code"] == "DIR_ANT"
    assert body["content"][0]["format"]["code"] == "urn:asip:ci-sis:idap:2011"
    assert run(lambda repo, _db: wishes.current_directives(repo, patient_id=pid)) == first
    saved = run(
        lambda repo, _db: wishes.directives_file(repo, patient_id=pid, document_id=first.id)
    )
    assert saved.content_type == "application/pdf"
    assert "Près de mon jardin, à Quimper." in pdf_text(saved.content)

    # A second set, without naming the first: refused, nothing stored.
    with pytest.raises(ReplacementNotConfirmed) as refused:
        run(
            lambda repo, db: wishes.write_directives(
                repo, db=db, patient_id=pid, answers=answers, today=TODAY
            )
        )
    assert refused.value.current_id == first.id
    with pytest.raises(ReplacementNotConfirmed):
        run(
            lambda repo, db: wishes.upload_directives(
                repo,
                db=db,
                patient_id=pid,
                content=saved.content,
                filename="da.pdf",
                document_date=TODAY,
                today=TODAY,
                replaces="someone-else",
            )
        )
    assert run(lambda repo, _db: wishes.current_directives(repo, patient_id=pid)) == first

    # Confirmed (the first one named): the new one is in force, the old one still downloadable.
    second = run(
        lambda repo, db: wishes.upload_directives(
            repo,
            db=db,
            patient_id=pid,
            content=saved.content,
            filename="da.pdf",
            document_date=TODAY,
            today=TODAY,
            replaces=first.id,
        )
    )
    assert run(lambda repo, _db: wishes.current_directives(repo, patient_id=pid)) == second
    new = run(lambda repo, _db: orjson.loads(repo.read("DocumentReference", second.id).body))
    assert new["relatesTo"][0]["target"]["reference"] == f"DocumentReference/{first.id}"
    old = run(lambda repo, _db: wishes.directives_file(repo, patient_id=pid, document_id=first.id))
    assert old.content == saved.content


@pytest.mark.parametrize("birth_date", ["2010-06-01", "2008-11-27", "2008-12", "2008"])
def test_minors_cannot_write_directives(rt: Runtime, birth_date: str) -> None:
    child = make_holder(rt, birth_date=birth_date)
    answers = wishes.answers_from_form(FORM)
    with acting_as(rt, child) as (repo, db):
        assert not wishes.is_adult(repo, patient_id=child.patient_id, today=TODAY)
        with pytest.raises(DirectivesRefused) as refused:
            wishes.write_directives(
                repo, db=db, patient_id=child.patient_id, answers=answers, today=TODAY
            )
        assert refused.value.reason == "minor"
        assert wishes.current_directives(repo, patient_id=child.patient_id) is None


def test_eighteen_today_is_an_adult(rt: Runtime) -> None:
    person = make_holder(rt, birth_date="2008-11-26")
    with acting_as(rt, person) as (repo, _db):
        assert wishes.is_adult(repo, patient_id=person.patient_id, today=TODAY)


def test_the_organ_donation_statement_is_dated_and_can_be_taken_back(run: Run, holder: Any) -> None:
    pid = holder.patient_id
    assert run(lambda repo, _db: wishes.donation_statement(repo, patient_id=pid)) is None
    made = run(lambda repo, _db: wishes.state_informed(repo, patient_id=pid, today=TODAY))
    again = run(
        lambda repo, _db: wishes.state_informed(repo, patient_id=pid, today=date(2027, 1, 2))
    )
    assert again.id == made.id  # one statement, dated anew
    found = run(lambda repo, _db: wishes.donation_statement(repo, patient_id=pid))
    assert found is not None and found.stated_on == date(2027, 1, 2)
    body = run(lambda repo, _db: orjson.loads(repo.read("Observation", made.id).body))
    assert body["valueBoolean"] is True and body["effectiveDateTime"] == "2027-01-02"
    run(lambda repo, _db: wishes.withdraw_statement(repo, patient_id=pid))
    assert run(lambda repo, _db: wishes.donation_statement(repo, patient_id=pid)) is None


def test_the_overview_gathers_everything(run: Run, holder: Any) -> None:
    pid = holder.patient_id
    run(lambda repo, _db: wishes.state_informed(repo, patient_id=pid, today=TODAY))
    view = run(lambda repo, _db: wishes.overview(repo, patient_id=pid, today=TODAY))
    assert view.adult and view.donation is not None and view.directives is None
    assert view.contacts == () and view.trusted is None
