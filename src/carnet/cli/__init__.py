"""The ``carnet`` command line (Typer + Rich), one module per command group.

Commands build the runtime from the ``CARNET_*`` settings, open their own transactions, and print
no health data or identifiers (ids and counts only).
"""

from __future__ import annotations

import typer

from carnet.cli import (
    accounts,
    audit,
    clients,
    db,
    demo,
    directory,
    enrollment,
    fhir,
    jobs,
    keys,
    serve,
)

app = typer.Typer(
    name="carnet",
    help="Carnet: a national personal health space.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(directory.app, name="directory")
app.add_typer(enrollment.app, name="enrollment")
app.add_typer(fhir.app, name="fhir")
app.add_typer(clients.app, name="clients")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(jobs.app, name="jobs")
app.add_typer(accounts.app, name="accounts")


def main() -> None:
    app()
