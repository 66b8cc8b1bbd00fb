"""``carnet serve`` and ``carnet worker``."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from carnet.cli.context import console, runtime, settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Server processes (each with its own job worker)."),
) -> None:
    """Serve the portal, the FHIR API and the authorization server."""
    import uvicorn

    from carnet.core.logging import configure_logging

    config = settings()
    config.check_safe_to_start()
    configure_logging(level=config.logging.level, json=config.json_logs)
    console.print(f"Carnet on http://{host}:{port}  (FHIR: http://{host}:{port}/fhir/metadata)")
    uvicorn.run(
        "carnet.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def worker(
    name: str = typer.Option("", help="Worker name in job leases (default: host:pid)."),
) -> None:
    """Run background jobs in this process until stopped (SIGINT/SIGTERM)."""
    with runtime() as rt:
        job_worker = rt.worker(name=name or None)

        def stop(_signum: int, _frame: FrameType | None) -> None:
            job_worker.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        console.print(f"job worker {job_worker.name} running; kinds: {sorted(rt.jobs.kinds)}")
        job_worker.run_forever()
