"""What every command needs: the settings, the runtime, a console, and clean failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from carnet.core.errors import CarnetError, ConfigurationError
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings, load_settings

console = Console(stderr=True)
out = Console()


def settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


@contextmanager
def runtime() -> Iterator[Runtime]:
    """Build the runtime; turn Carnet's own errors into a message and a non-zero exit."""
    built: Runtime | None = None
    try:
        built = build_runtime(settings())
        yield built
    except ConfigurationError as exc:
        console.print(f"[red]configuration:[/red] {exc}")
        raise typer.Exit(2) from None
    except CarnetError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        if built is not None:
            built.close()
