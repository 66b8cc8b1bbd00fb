"""A patient's documents pages with 2,000 documents and 10,000 other resources (issue 6).

    python bench/patient_documents.py --db sqlite|postgres [--requests 100] [--uploads 10]
        [--background 100] [--profile]

Seeds ``--background`` demo patients, then one holder (a patient account and its Patient) with
2,000 documents written through ``documents.service.add_document`` (1,800, the holder as author)
and ``add_professional_document`` (200, a practitioner as author): Binary + DocumentReference,
the 12 categories, small PDFs and texts, dates over 2000–2026, 12 pinned, 400 in 5 folders;
and 10,000 other resources of the holder through the repository (Observations, Conditions,
MedicationStatements, Immunizations, AllergyIntolerances).

The pages are requested through the real application (``create_app``) with an in-process
TestClient signed in as the holder (password, then the e-mailed code). The **server time** is
measured by an ASGI wrapper around the whole application, from the request's arrival to the
last byte of its response (middlewares, session, CSRF, handler, database, rendering); the
client's wall time (TestClient overhead included) is printed beside it. Targets (issue 6):
list and timeline pages p95 < 150 ms; a 5 MB upload stored and listed < 1 s.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import random
import re
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carnet.access.schemas import AccessContext
from carnet.app import create_app
from carnet.core.actor import CARNET, Actor, ActorKind
from carnet.core.ids import new_id
from carnet.demo import service as demo_service
from carnet.documents import service as documents
from carnet.documents.categories import CATEGORIES
from carnet.documents.schemas import DocumentFilters
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings
from common import fresh_database, machine, temp_dir

DOCUMENTS = 2000
OTHERS = 10_000
PASSWORD = "Bench-documents-2026!"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")
NEW_ID = re.compile(r"/documents/([0-9a-f-]{36})\?fait=ajoute")
UPLOAD_BYTES = 5_000_000  # 5 MB (the limit is 5 MiB = 5,242,880 bytes)


# --- timing ---------------------------------------------------------------------------------


class ServerTimer:
    """ASGI wrapper: the time from a request's arrival to its response's last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - started) * 1000

        await self.app(scope, receive, timed)


@dataclass
class Series:
    label: str
    server: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    size: int = 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def row(series: Series) -> str:
    s, w = series.server, series.wall
    return (
        f"| {series.label} | {len(s)} | {statistics.median(s):.1f} | **{pct(s, 0.95):.1f}** | "
        f"{pct(s, 0.99):.1f} | {statistics.median(w):.1f} / {pct(w, 0.95):.1f} | "
        f"{series.size / 1024:,.0f} KiB |"
    )


# --- seeding --------------------------------------------------------------------------------


def settings_for(url: str, work: Any) -> Settings:
    return Settings.model_validate(
        {
            "environment": "test",
            "data_dir": work / "var",
            "database": {"url": url},
            "jobs": {"worker_in_server": False},
            "public_base_url": "http://testserver",
            "logging": {"level": "WARNING"},
        }
    )


def make_holder(rt: Runtime) -> tuple[str, str]:
    """A patient account (e-mailed second factor) and its Patient; (login, patient id)."""
    login, person_id = f"bench.{new_id()[:8]}", new_id()
    hashed = rt.accounts.hash_password(PASSWORD, names=("Camille", "Martin"))
    with rt.transaction() as db:
        rt.accounts.create_account(
            db,
            actor=CARNET,
            kind="patient",
            person_id=person_id,
            login=login,
            password=hashed,
            email=f"{login}@example.org",
            phone=None,
            second_factor="email",
            dev_only=False,
        )
    patient = {
        "resourceType": "Patient",
        "id": person_id,
        "name": [{"use": "official", "family": "Martin", "given": ["Camille"]}],
        "gender": "female",
        "birthDate": "1968-05-02",
    }
    with rt.carnet_repository() as repo:
        repo.update("Patient", person_id, patient)
    return login, person_id


def small_pdf(i: int) -> bytes:
    """A one-page PDF of about 1 KB, different for each ``i``."""
    text = f"BT /F1 12 Tf 20 100 Td (Compte rendu {i}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
    ]
    out = b"%PDF-1.7\n"
    for number, body in enumerate(objects, start=1):
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    return out + b"%" + b"x" * 700 + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def big_pdf(size: int, seed: int) -> bytes:
    """A valid PDF of ``size`` bytes: one page and an incompressible image-like stream."""
    head = small_pdf(seed).split(b"trailer")[0]
    filler = random.Random(seed).randbytes(size - len(head) - 200)
    stream = (
        b"5 0 obj\n<< /Length "
        + str(len(filler)).encode()
        + b" >>\nstream\n"
        + filler
        + b"\nendstream\nendobj\n"
    )
    body = head + stream + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return body + b"%" * (size - len(body) - 1) + b"\n"


def seed_documents(rt: Runtime, patient_id: str, rng: random.Random, count: int) -> dict[str, Any]:
    """2,000 documents through the documents service, 100 a transaction; pins and folders."""
    categories = sorted(CATEGORIES)
    ids: list[str] = []
    texts: list[str] = []
    for batch in range(count // 100):
        with rt.transaction() as db:
            repo = rt.record.repository(db=db, ctx=rt.carnet_context())
            for j in range(100):
                i = batch * 100 + j
                day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9800))
                is_text = i % 5 == 4
                content = (
                    f"Note {i} : tension 12/8, revoir dans 3 mois.\n".encode() * 8
                    if is_text
                    else small_pdf(i)
                )
                name = f"doc-{i}.txt" if is_text else f"doc-{i}.pdf"
                if i % 10 == 9:
                    view = documents.add_professional_document(
                        repo,
                        db=db,
                        patient_id=patient_id,
                        author=f"Practitioner/{new_id()}",
                        content=content,
                        filename=name,
                        title=f"Compte rendu de biologie {i}",
                        type_code="11502-2",
                        type_system="http://loinc.org",
                        document_date=day,
                        masked=i % 7 == 0,
                    )
                else:
                    view = documents.add_document(
                        repo,
                        db=db,
                        patient_id=patient_id,
                        content=content,
                        filename=name,
                        title=f"Document {i} du {day:%d/%m/%Y}",
                        category=categories[i % len(categories)],
                        document_date=day,
                        masked=i % 11 == 0,
                    )
                ids.append(view.id)
                if is_text:
                    texts.append(view.id)
    own = [d for n, d in enumerate(ids) if n % 10 != 9]
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=rt.carnet_context())
        for document_id in own[:12]:
            documents.set_pinned(repo, patient_id=patient_id, document_id=document_id, pinned=True)
        folders = [
            documents.create_folder(repo, patient_id=patient_id, name=name)
            for name in ("Cardiologie", "Dentiste", "Grossesse", "Kiné", "Mutuelle")
        ]
        for k, folder in enumerate(folders):
            documents.move_documents(
                repo,
                patient_id=patient_id,
                document_ids=own[100 + 80 * k : 180 + 80 * k],
                folder_id=folder.id,
            )
    return {"ids": ids, "texts": texts}


def _others(patient_id: str, i: int) -> dict[str, Any]:
    subject = {"reference": f"Patient/{patient_id}"}
    day = f"{2000 + i % 26}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    kind = i % 10
    if kind < 6:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": subject,
            "effectiveDateTime": f"{day}T08:00:00+01:00",
            "valueQuantity": {
                "value": 50 + i % 40,
                "unit": "kg",
                "system": "http://unitsofmeasure.org",
                "code": "kg",
            },
        }
    if kind == 6:
        return {
            "resourceType": "Condition",
            "subject": subject,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(38341003 + i)}]},
            "recordedDate": day,
        }
    if kind in (7, 8):
        return {
            "resourceType": "MedicationStatement" if kind == 7 else "Immunization",
            **(
                {
                    "status": "active",
                    "subject": subject,
                    "medicationCodeableConcept": {"text": f"Médicament {i % 300}"},
                    "effectiveDateTime": day,
                }
                if kind == 7
                else {
                    "status": "completed",
                    "patient": subject,
                    "vaccineCode": {"text": f"Vaccin {i % 20}"},
                    "occurrenceDateTime": day,
                }
            ),
        }
    return {
        "resourceType": "AllergyIntolerance",
        "patient": subject,
        "code": {"text": f"Allergie {i % 50}"},
        "recordedDate": day,
    }


def seed_others(rt: Runtime, patient_id: str, count: int) -> None:
    for start in range(0, count, 500):
        with rt.carnet_repository() as repo:
            for i in range(start, start + 500):
                repo.create(rt.record.prepare(_others(patient_id, i)))


# --- the pages ------------------------------------------------------------------------------


def sign_in(client: TestClient, rt: Runtime, login: str) -> str:
    """Password then the e-mailed code; returns a CSRF token for the session's forms."""
    token = TOKEN.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    first = client.post(
        "/connexion",
        data={"csrf_token": token, "login": login, "password": PASSWORD, "next": ""},
        follow_redirects=False,
    )
    assert first.status_code == 303, first.text[:300]
    rt.worker().run_until_idle()
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    message = next(m for m in reversed(outbox) if m.kind == "sign_in_code")
    code = CODE.search(message.text).group(1)  # type: ignore[union-attr]
    token = TOKEN.search(client.get("/connexion/code").text).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/connexion/code", data={"csrf_token": token, "code": code}, follow_redirects=False
    )
    assert done.status_code == 303, done.text[:300]
    page = client.get("/documents")
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.text).group(1)  # type: ignore[union-attr]


def measure(
    timer: ServerTimer,
    label: str,
    call: Callable[[int], Any],
    *,
    requests: int,
    check: Callable[[Any], None] | None = None,
) -> Series:
    """``requests`` calls (after 5 of warm-up), each checked; the server and wall times."""
    series = Series(label)
    for i in range(requests + 5):
        started = time.perf_counter()
        response = call(i)
        wall = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (label, response.status_code, response.text[:300])
        if check is not None:
            check(response)
        if i >= 5:  # warm-up
            series.server.append(timer.last_ms)
            series.wall.append(wall)
            series.size = len(response.content)
    return series


def page_series(
    client: TestClient, timer: ServerTimer, token: str, seeded: dict[str, Any], requests: int
) -> list[Series]:
    ids, texts = seeded["ids"], seeded["texts"]

    def has_documents(response: Any) -> None:
        assert "/documents/" in response.text
        assert 'aria-current="page"' in response.text

    def filtered(response: Any) -> None:
        assert "/documents/" in response.text

    def post(data: dict[str, str]) -> Callable[[int], Any]:
        return lambda _i: client.post("/documents", data={"csrf_token": token, **data})

    pdfs = [d for d in ids if d not in set(texts)]
    n = requests
    return [
        measure(timer, "GET /documents (first page)", lambda _i: client.get("/documents"),
                requests=n, check=has_documents),
        measure(timer, "POST /documents, category BIOLOGIE", post({"categorie": "BIOLOGIE"}),
                requests=n, check=filtered),
        measure(timer, "POST /documents, dates 2010-01-01 → 2012-12-31",
                post({"du": "2010-01-01", "au": "2012-12-31"}), requests=n, check=filtered),
        measure(timer, "POST /documents, category + dates + text",
                post({"categorie": "ORD_SOIN", "du": "2005-01-01", "au": "2020-12-31", "q": "doc"}),
                requests=n, check=filtered),
        measure(timer, "POST /documents, page 2", post({"page": "2"}), requests=n,
                check=has_documents),
        measure(timer, "GET /documents?page=50", lambda _i: client.get("/documents?page=50"),
                requests=n, check=has_documents),
        measure(timer, "GET /documents/{id} (PDF)",
                lambda i: client.get(f"/documents/{pdfs[(i * 37) % len(pdfs)]}"), requests=n),
        measure(timer, "GET /documents/{id} (text, shown inline)",
                lambda i: client.get(f"/documents/{texts[(i * 7) % len(texts)]}"), requests=n),
    ]  # fmt: skip


def uploads(
    client: TestClient, timer: ServerTimer, token: str, runs: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    """(upload server ms, list server ms, their sum, wall of both) for each 5 MB upload."""
    up, listed, both, wall = [], [], [], []
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for n in range(runs):
        content = big_pdf(UPLOAD_BYTES, n)
        title = f"Imagerie volumineuse {n}"
        started = time.perf_counter()
        response = client.post(
            "/documents/ajouter",
            data={
                "csrf_token": token,
                "titre": title,
                "date": today,
                "categorie": "RADIO_SC",
                "confidentialite": "defaut",
                "dossier": "",
            },
            files={"fichier": (f"scanner-{n}.pdf", content, "application/pdf")},
            follow_redirects=False,
        )
        up_ms = timer.last_ms
        assert response.status_code == 303, response.text[:500]
        assert NEW_ID.search(response.headers["location"])
        page = client.get("/documents")
        list_ms = timer.last_ms
        wall.append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200
        assert title in page.text
        up.append(up_ms)
        listed.append(list_ms)
        both.append(up_ms + list_ms)
    return up, listed, both, wall


def in_process(
    rt: Runtime, patient_id: str, requests: int, profile: bool, documents_count: int
) -> list[float]:
    """``list_documents`` alone (its own transaction, as the patient), without HTTP."""
    ctx = AccessContext(actor=Actor(kind=ActorKind.PATIENT, id=patient_id), patient_id=patient_id)
    times = []
    profiler = cProfile.Profile() if profile else None
    for i in range(requests + 3):
        started = time.perf_counter()
        if profiler and i >= 3:
            profiler.enable()
        with rt.transaction() as db:
            repo = rt.record.repository(db=db, ctx=ctx)
            page = documents.list_documents(repo, patient_id=patient_id, filters=DocumentFilters())
        if profiler:
            profiler.disable()
        if i >= 3:
            times.append((time.perf_counter() - started) * 1000)
    assert page.total == documents_count, page.total
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(15)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="a multiple of 100")
    parser.add_argument("--others", type=int, default=OTHERS, help="a multiple of 500")
    parser.add_argument("--profile", action="store_true", help="cProfile of list_documents")
    parser.add_argument(
        "--no-analyze", action="store_true", help="skip ANALYZE after seeding (stale statistics)"
    )
    args = parser.parse_args()
    work = temp_dir()
    rng = random.Random(6)
    with fresh_database(args.db, work) as url:
        rt = build_runtime(settings_for(url, work), configure_logs=False)
        started = time.perf_counter()
        report = demo_service.seed(
            repository=rt.carnet_repository, patients=args.background, seed=7
        )
        background = time.perf_counter() - started
        login, patient_id = make_holder(rt)
        started = time.perf_counter()
        seeded = seed_documents(rt, patient_id, rng, args.documents)
        docs_s = time.perf_counter() - started
        started = time.perf_counter()
        seed_others(rt, patient_id, args.others)
        others_s = time.perf_counter() - started
        if not args.no_analyze:
            # A live database has planner statistics (autovacuum's ANALYZE); right after a bulk
            # seed PostgreSQL may have none for the holder's rows and pick nested loops.
            with rt.transaction() as db:
                db.execute(text("ANALYZE"))
        print(f"machine: {machine()}")
        print(
            f"database: {args.db}; background {args.background} demo patients "
            f"({report.resources:,} resources, {background:.0f} s); the holder: "
            f"{args.documents:,} documents via documents.service ({docs_s:.0f} s), "
            f"{args.others:,} other resources ({others_s:.0f} s); "
            f"{'no ANALYZE' if args.no_analyze else 'ANALYZE'} after seeding"
        )
        service = in_process(rt, patient_id, 30, args.profile, len(seeded["ids"]))
        print(
            f"list_documents in-process (own transaction, no HTTP): p50 "
            f"{statistics.median(service):.1f} ms, p95 {pct(service, 0.95):.1f} ms"
        )
        timer = ServerTimer(create_app(rt))
        with TestClient(timer, base_url="http://testserver") as client:
            token = sign_in(client, rt, login)
            print(
                "| Request | n | server p50 | **server p95** | server p99 | "
                "client wall p50 / p95 | response |"
            )
            print("|---|---|---|---|---|---|---|")
            worst = 0.0
            for series in page_series(client, timer, token, seeded, args.requests):
                print(row(series), flush=True)
                if "/documents/{id}" not in series.label:
                    worst = max(worst, pct(series.server, 0.95))
            up, listed, both, wall = uploads(client, timer, token, args.uploads)
        print(
            f"5 MB upload ({UPLOAD_BYTES:,} B PDF), {args.uploads} runs: POST /documents/ajouter "
            f"server p50 {statistics.median(up):.0f} ms, max {max(up):.0f} ms; then GET /documents "
            f"p50 {statistics.median(listed):.0f} ms, max {max(listed):.0f} ms; both p50 "
            f"{statistics.median(both):.0f} ms, max {max(both):.0f} ms "
            f"(client wall p50 {statistics.median(wall):.0f} ms, max {max(wall):.0f} ms)"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {rss:.0f} MiB (seeding included)")
        print(
            f"targets: list/timeline p95 < 150 ms: worst {worst:.1f} ms "
            f"{'met' if worst < 150 else 'NOT met'}; upload + list < 1 s: worst "
            f"{max(both):.0f} ms {'met' if max(both) < 1000 else 'NOT met'}"
        )
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
