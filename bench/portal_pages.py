"""Portal pages under load: a real `carnet serve`, wrk at concurrency 16, p50/p95/p99 per page.

    python bench/portal_pages.py [--db sqlite|postgres] [--workers 1] [--seconds 10]

Each page is rendered in full (shell, catalogue, CSRF token) on every request; the latencies are
wrk's, measured from the same machine over loopback, so they bound the server time from above.
Target (issue 4): p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

from common import build, fresh_database, machine, running_server, temp_dir, wrk

HERE = Path(__file__).resolve().parent
PAGES = [
    ("/", "home"),
    ("/preferences", "language form"),
    ("/accessibilite", "accessibility statement"),
    ("/plan-du-site", "site map"),
    ("/pro", "professional area"),
    ("/no-such-page", "404 page"),
]


def percentiles(url: str, *, seconds: int, connections: int, language: str) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Accept-Language: {language}",
            "-s",
            str(HERE / "wrk_percentiles.lua"),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"p50=(\d+) p95=(\d+) p99=(\d+) requests=(\d+) non2xx=(\d+)", out)
    assert match, out
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p95, p99, total, _non2xx = (int(g) for g in match.groups())
    return {"rps": rps, "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000, "n": total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        print(f"machine: {machine()}")
        print(
            f"server: carnet serve --workers {args.workers} ({args.db}); load: wrk -t2 "
            f"-c{args.connections} -d{args.seconds}s per page (same machine)"
        )
        with running_server(rt, url, workers=args.workers) as server:
            wrk(f"{server.base}/", seconds=3)  # warm-up
            worst = 0.0
            for path, label in PAGES:
                for language in ("fr", "en"):
                    r = percentiles(
                        server.base + path,
                        seconds=args.seconds,
                        connections=args.connections,
                        language=language,
                    )
                    worst = max(worst, r["p95"])
                    print(
                        f"{label + ' (' + language + ')':<40} {r['rps']:>7,.0f} req/s   "
                        f"p50 {r['p50']:6.2f} ms   p95 {r['p95']:6.2f} ms   p99 {r['p99']:6.2f} ms"
                    )
            # One client at a time: the latency is then the server's time plus a loopback trip.
            for path, label in PAGES:
                r = percentiles(server.base + path, seconds=3, connections=1, language="fr")
                print(
                    f"{label + ' (fr, 1 client)':<40} {r['rps']:>7,.0f} req/s   "
                    f"p50 {r['p50']:6.2f} ms   p95 {r['p95']:6.2f} ms   p99 {r['p99']:6.2f} ms"
                )
        verdict = "met" if worst < 100 else "NOT met"
        print(f"worst p95 {worst:.2f} ms: target p95 < 100 ms {verdict}")
        rt.close()


if __name__ == "__main__":
    main()
