"""``carnet db``: migrations."""

from __future__ import annotations

import typer

from carnet.cli.context import console, settings

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from carnet import migrations

    migrations.upgrade(settings().database_url, revision)
    console.print("database schema up to date")


@app.command()
def check() -> None:
    """Fail if the models and the migrations differ (run by `make lint`)."""
    from carnet import migrations

    migrations.check(settings().database_url)
    console.print("models and migrations agree")


@app.command()
def revision(message: str = typer.Option(..., "-m", "--message")) -> None:
    """Write a new migration from the difference between the models and the database."""
    from carnet import migrations

    migrations.revision(settings().database_url, message)
