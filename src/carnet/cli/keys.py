"""``carnet keys``: key-encryption key rotation and crypto-shredding."""

from __future__ import annotations

import typer
from rich.progress import Progress

from carnet.cli.context import console, out, runtime

app = typer.Typer(help="Encryption keys.", no_args_is_help=True)


@app.command()
def rotate(batch: int = typer.Option(1000, help="Data keys re-wrapped per transaction.")) -> None:
    """Re-wrap every data key under a new key-encryption key (data is not re-encrypted).

    Resumable: if a rotation was interrupted, running this again finishes it.
    """
    from carnet.audit.schemas import AuditRecord
    from carnet.audit.tags import EventTag, Outcome
    from carnet.core.actor import CARNET

    with runtime() as rt:
        with rt.transaction(readonly=True) as db:
            total = sum(rt.storage.count_data_keys(db).values())
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("re-wrapping data keys", total=total)
            report = rt.storage.rotate_keks(
                rt.transaction,
                batch_size=batch,
                progress=lambda n: progress.advance(task, n),
            )
        with rt.transaction() as db:
            rt.audit.record(
                db,
                AuditRecord(
                    tag=EventTag.STORAGE_KEY_ROTATE,
                    outcome=Outcome.SUCCESS,
                    actor=CARNET,
                    patient_id=None,
                    entity=rt.storage.keyring.active_kek_id,
                    detail={"rewrapped": report.rewrapped, "retired": report.retired},
                ),
            )
        out.print(
            f"active key-encryption key: {rt.storage.keyring.active_kek_id}; "
            f"{report.rewrapped} data keys re-wrapped; retired: {', '.join(report.retired) or '-'}"
        )


@app.command()
def shred(
    patient_id: str = typer.Argument(..., help="The Patient's FHIR id."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: this cannot be undone."),
) -> None:
    """Destroy one patient's data key: their resources and documents become unreadable forever."""
    from carnet.audit.schemas import AuditRecord
    from carnet.audit.tags import EventTag, Outcome
    from carnet.core.actor import CARNET

    if not yes:
        console.print("refusing without --yes: crypto-shredding cannot be undone")
        raise typer.Exit(2)
    with runtime() as rt, rt.transaction() as db:
        destroyed = rt.storage.destroy_data_key(db, owner_id=patient_id)
        rt.audit.record(
            db,
            AuditRecord(
                tag=EventTag.STORAGE_KEY_DESTROY,
                outcome=Outcome.SUCCESS if destroyed else Outcome.NOT_FOUND,
                actor=CARNET,
                patient_id=patient_id,
                entity=f"Patient/{patient_id}",
            ),
        )
    out.print("data key destroyed" if destroyed else "no live data key for this id")
    if not destroyed:
        raise typer.Exit(1)
