"""``carnet accounts``: operators' accounts, and the demo's TOTP codes."""

from __future__ import annotations

import typer

from carnet.cli.context import out, runtime
from carnet.core.actor import CARNET

app = typer.Typer(help="Accounts: operators, and the demo's second factor.", no_args_is_help=True)


@app.command("add-operator")
def add_operator(
    login: str = typer.Option(..., help="At least 8 characters: letters, digits, . - _"),
    role: list[str] = typer.Option(..., help="support, enrollment, referencing or security"),
    email: str | None = typer.Option(None, help="A contact address (optional)."),
) -> None:
    """Create an operator; prints the TOTP key to load in their authenticator app (once)."""
    from carnet.identity.accounts import service as accounts_service

    roles = tuple(accounts_service.OperatorRole(r) for r in role)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt:
        hashed = rt.accounts.hash_password(password)
        with rt.transaction() as db:
            _account_id, secret = rt.accounts.create_operator(
                db, actor=CARNET, login=login, password=hashed, email=email, roles=roles
            )
    out.print(f"operator created; TOTP key (shown once): {secret}", soft_wrap=True)


@app.command("demo-code")
def demo_code(login: str = typer.Argument(..., help="A demo account's login.")) -> None:
    """The current TOTP code of a demo account (development only)."""
    with runtime() as rt, rt.transaction(readonly=True) as db:
        code = rt.accounts.totp_code_for_demo(db, login=login)
    if code is None:
        out.print("no TOTP code: not a development account with an authenticator")
        raise typer.Exit(1)
    out.print(code)
