"""``carnet clients``: register and manage OAuth clients."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.table import Table

from carnet.cli.context import console, out, runtime

app = typer.Typer(help="OAuth clients of the authorization server.", no_args_is_help=True)


@app.command("add-system")
def add_system(
    name: str = typer.Option(..., help="A name people will recognise in access histories."),
    scope: list[str] = typer.Option(..., help="SMART v2 scopes, e.g. 'system/Patient.rs'."),
    jwks: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="The client's public JWK set (private_key_jwt)."
    ),
) -> None:
    """Register a backend-services client; print its id (and secret, without --jwks) as JSON."""
    from carnet.core.actor import CARNET

    key_set = None
    if jwks is not None:
        try:
            key_set = orjson.loads(jwks.read_bytes())
        except orjson.JSONDecodeError:
            console.print("[red]the JWKS file is not JSON[/red]")
            raise typer.Exit(2) from None
    scopes = " ".join(s for item in scope for s in item.split())
    with runtime() as rt, rt.transaction() as db:
        client = rt.authz.register_system_client(
            db, name=name, scopes=scopes, jwks=key_set, actor=CARNET
        )
    result = {
        "client_id": client.client_id,
        "name": client.name,
        "scope": client.scopes,
        "token_endpoint_auth_method": client.auth_method,
        "token_endpoint": rt.authz.token_endpoint,
    }
    if client.client_secret is not None:
        result["client_secret"] = client.client_secret
    out.print_json(orjson.dumps(result).decode())


@app.command("list")
def list_clients() -> None:
    """List registered clients."""
    with runtime() as rt, rt.transaction(readonly=True) as db:
        clients = rt.authz.list_clients(db)
    table = Table("client id", "name", "auth", "scopes", "disabled")
    for client in clients:
        table.add_row(
            client.client_id,
            client.name,
            client.auth_method,
            client.scopes,
            "yes" if client.disabled else "",
        )
    out.print(table)


@app.command()
def disable(client_id: str) -> None:
    """Disable a client: it gets no new token (tokens already issued expire within minutes)."""
    from carnet.core.actor import CARNET

    with runtime() as rt, rt.transaction() as db:
        done = rt.authz.disable_client(db, client_id=client_id, actor=CARNET)
    out.print("client disabled" if done else "no such active client")
    if not done:
        raise typer.Exit(1)
