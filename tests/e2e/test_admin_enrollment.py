"""The operators' console in Chromium: an operator signs in with TOTP, reads the dashboard,
starts a campaign (a mistake first), looks a caller up by NIR, sends them a new code, records
their opposition by phone and downloads its proof, then suspends another person's space and
lifts the suspension. Every page passes axe and raises no CSP violation (``Visitor.check``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.accounts.factories import make_operator
from tests.conftest import make_settings, new_database
from tests.e2e.conftest import LiveServer
from tests.enrollment.conftest import write_file

from carnet import migrations
from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.identity.accounts import totp
from carnet.identity.accounts.schemas import OperatorRole
from carnet.runtime import build_runtime

Row = dict[str, str]
PILOTS = enrollment_service.PILOT_DEPARTEMENTS


@pytest.fixture(scope="module")
def console_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, list[Row]]]:
    """A live server on a database of its own: 40 registry lines, the pilots informed."""
    directory = tmp_path_factory.mktemp("console-e2e")
    with new_database(directory) as url:
        migrations.upgrade(url)
        runtime = build_runtime(make_settings(url, directory / "var"), configure_logs=False)
        rows = list(synthetic_registry(40, seed=31))
        enrollment_service.import_registry(
            source=write_file(directory / "registry.txt", rows),
            storage=runtime.storage,
            audit=runtime.audit,
            transaction=runtime.transaction,
        )
        with runtime.transaction() as db:
            runtime.enrollment.start_campaign(
                db, actor=CARNET, departements="31,44,80", send_date=runtime.clock.now().date()
            )
        runtime.worker(name="e2e").run_until_idle()
        server = LiveServer(runtime).start()
        yield server, rows
        server.stop()
        runtime.close()


def _holders(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r["nir_ouvrant_droit"] and r["departement"] in PILOTS]


def _sign_in(person: Any, server: LiveServer) -> None:
    roles = (OperatorRole.SUPPORT, OperatorRole.ENROLLMENT, OperatorRole.SECURITY)
    operator = make_operator(server.runtime, roles=roles)
    assert operator.totp_secret
    page = person.page
    person.goto("/admin")
    page.get_by_label("Identifiant").fill(operator.login)
    page.get_by_label("Mot de passe", exact=True).fill(operator.password)
    person.navigate(page.locator("main").get_by_role("button", name="Se connecter").click)
    page.get_by_label("Code de vérification").fill(
        totp.current_code(operator.totp_secret, now=server.runtime.clock.now())
    )
    person.navigate(page.get_by_role("button", name="Valider").click)
    assert page.locator("h1").inner_text() == "Administration"


def _look_up(person: Any, nir: str) -> None:
    page = person.page
    person.navigate(page.get_by_role("link", name="Rechercher une personne").click)
    page.get_by_label("Numéro de sécurité sociale").fill(nir)
    person.navigate(page.locator("main").get_by_role("button", name="Rechercher").click)


def test_an_operator_runs_the_console(
    visit: Any, console_server: tuple[LiveServer, list[Row]], tmp_path: Path
) -> None:
    server, rows = console_server
    person = visit(server)
    page = person.page
    main = page.locator("main")
    _sign_in(person, server)

    person.navigate(main.get_by_role("link", name="Ouverture des profils").click)
    assert page.locator("h1").inner_text() == "Ouverture des profils"
    assert "Effectifs par département" in main.inner_text()

    person.navigate(main.get_by_role("link", name="Campagnes", exact=True).click)
    person.navigate(main.get_by_role("link", name="Lancer une campagne").click)
    page.get_by_label("Autres départements").fill("59, 99")
    person.navigate(main.get_by_role("button", name="Lancer la campagne").click)
    assert "Un des départements n’existe pas" in main.inner_text()
    page.get_by_label("Autres départements").fill("59")
    person.navigate(main.get_by_role("button", name="Lancer la campagne").click)
    assert page.locator("h1").inner_text().startswith("Campagne du")

    caller = next(r for r in _holders(rows) if r["email"])
    other = next(r for r in _holders(rows) if r is not caller)
    _look_up(person, caller["nir"])
    assert caller["prenoms"] in main.inner_text()
    assert caller["nir"] not in page.content()
    person.navigate(main.get_by_role("button", name="Envoyer un nouveau code").click)
    assert "Un nouveau code est parti" in main.inner_text()

    page.get_by_label("Numéro de série de la carte Vitale").fill(caller["numero_serie_vitale"])
    page.get_by_label("Date de naissance donnée par la personne").fill(caller["date_naissance"])
    person.navigate(main.get_by_role("button", name="Enregistrer l’opposition").click)
    assert "L’opposition est enregistrée" in main.inner_text()
    with page.expect_download() as download:
        main.get_by_role("button", name="Télécharger la preuve d’opposition (PDF)").click()
    saved = tmp_path / "preuve.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    runtime = server.runtime
    with runtime.transaction() as db:
        found = enrollment_service.find_beneficiary(db, storage=runtime.storage, nir=other["nir"])
        assert found is not None
        runtime.enrollment.opening.open(
            db, actor=CARNET, beneficiary_id=found.id, opened_by="request"
        )
    _look_up(person, other["nir"])
    page.locator("label[for=reason-fraud]").click()
    person.navigate(main.get_by_role("button", name="Suspendre le profil").click)
    assert "Le profil est suspendu" in main.inner_text()
    person.navigate(main.get_by_role("button", name="Lever la suspension").click)
    assert "La suspension est levée" in main.inner_text()
