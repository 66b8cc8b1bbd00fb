"""``carnet demo``: synthetic demonstration data."""

from __future__ import annotations

import os

import orjson
import typer
from rich.progress import Progress

from carnet.cli.context import console, out, runtime
from carnet.core.actor import CARNET
from carnet.runtime import Runtime

app = typer.Typer(help="Synthetic demonstration data.", no_args_is_help=True)

DEMO_CLIENT_NAME = "Démo — logiciel de cabinet"
DEMO_CLIENT_SCOPES = "system/*.cruds"


@app.command("seed")
def seed_command(
    patients: int = typer.Option(40, min=1, help="How many synthetic patients."),
    seed: int = typer.Option(1, help="Same seed, same people: runs are reproducible."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if already seeded."),
) -> None:
    """Write a deterministic synthetic French population through the record repository."""
    from carnet.demo import service as demo_service

    with runtime() as rt:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("seeding demo patients", total=patients)
            report = demo_service.seed(
                repository=rt.carnet_repository,
                patients=patients,
                seed=seed,
                if_empty=if_empty,
                progress=lambda n: progress.advance(task, n),
            )
        if report.skipped:
            out.print("demo data already present: nothing to do")
        else:
            out.print(f"{report.patients} demo patients, {report.resources} resources written")
            for patient_id, label in report.examples:
                out.print(f"  Patient/{patient_id}  {label}", soft_wrap=True)
        if not rt.settings.is_production:
            _print_demo_client(rt)
            _print_demo_accounts(rt)


def _print_demo_accounts(rt: Runtime) -> None:
    """Create (once) the demo sign-ins and list them with their second factor."""
    from carnet.demo.accounts import seed_accounts

    made = seed_accounts(accounts=rt.accounts, transaction=rt.transaction)
    base = rt.settings.public_base_url.rstrip("/")
    out.print(
        f"\nDemo sign-ins (development passwords; sign in at {base}/connexion):", soft_wrap=True
    )
    for account in made:
        out.print(
            f"  {account.role:<20} {account.login:<16} {account.password:<22} "
            f"{account.second_factor:<7} {account.person}",
            soft_wrap=True,
        )
    out.print(
        "  e-mailed codes are printed by `carnet serve` on its terminal (the console sender);\n"
        f"  the operator signs in at {base}/admin/connexion with the code of\n"
        "  `.venv/bin/carnet accounts demo-code demo.operateur`. The professionals' accounts are\n"
        "  dev-only (production refuses them: professionals use Pro Santé Connect).",
        soft_wrap=True,
    )


def _print_demo_client(rt: Runtime) -> None:
    """Register (once) a development client for the FHIR API and show how to use it."""
    credentials = rt.settings.data_dir / "demo-client.json"
    if not credentials.exists():
        if not rt.settings.client_secrets_allowed:
            return
        with rt.transaction() as db:
            client = rt.authz.register_system_client(
                db, name=DEMO_CLIENT_NAME, scopes=DEMO_CLIENT_SCOPES, jwks=None, actor=CARNET
            )
        # Created readable by the owner only, from the first byte.
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(
                orjson.dumps({"client_id": client.client_id, "client_secret": client.client_secret})
            )
    saved = orjson.loads(credentials.read_bytes())
    base = rt.settings.public_base_url.rstrip("/")
    out.print(
        "\nDevelopment client for the FHIR API (client_secret_basic, dev only):\n"
        f"  client_id     {saved['client_id']}\n"
        f"  client_secret {saved['client_secret']}\n"
        '  token:  curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials '
        f"{base}/oauth2/token\n"
        f'  read:   curl -s -H "Authorization: Bearer $TOKEN" {base}/fhir/Patient/<id>\n'
        f"  (saved in {credentials})",
        soft_wrap=True,
    )
