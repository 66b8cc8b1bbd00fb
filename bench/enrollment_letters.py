"""Printable letters: letters per second on one core and peak memory, for one print batch.

    python bench/enrollment_letters.py [--letters 10000] [--out batch.pdf]

Renders ``--letters`` synthetic letters (varied names, addresses and codes, one activation URL)
into one batch PDF with ``render_batch``, in this process, on one core; then times
``render_letter`` alone on a sample (one PDF per letter, as a single reprint would be). Prints
letters/s, the file's size, and the process's RSS before the batch and at its peak. See
docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import argparse
import random
import resource
import string
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from carnet.enrollment.letters import LetterInput, render_batch, render_letter
from common import machine

GIVEN = ("Jeanne", "Éloïse", "Mohamed", "Thi Lan", "Jean-Baptiste", "Zsófia", "Noé", "Inès")
FAMILY = ("Martin", "Le Gall", "Benali", "Nguyen", "Dupont-Moreau", "Kőrösi", "Roux", "Faure")
STREETS = ("rue des Lilas", "avenue Jean Jaurès", "chemin du Moulin", "place de l’Église")
CITIES = ("29200 BREST", "69003 LYON", "13001 MARSEILLE", "97400 SAINT-DENIS", "75018 PARIS")


def letters(count: int, seed: int = 5) -> Iterator[LetterInput]:
    """``count`` plausible, varied letters, the same for the same seed (never held together)."""
    rng = random.Random(seed)
    alphabet = string.ascii_uppercase + string.digits
    for _ in range(count):
        extra = ("Bâtiment B, appartement 12",) if rng.random() < 0.3 else ()
        code = "".join(rng.choice(alphabet) for _ in range(12))
        yield LetterInput(
            civility=rng.choice(("Madame", "Monsieur", "")),
            given_names=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            address_lines=(
                *extra,
                f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                rng.choice(CITIES),
            ),
            code=f"{code[:4]}-{code[4:8]}-{code[8:]}",
            activation_url="https://carnet.example.fr/activer",
            opposition_deadline=date(2027, 2, 15),
            letter_date=date(2026, 12, 1),
        )


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="keep the batch here (default: a temp file)")
    args = parser.parse_args()
    print(machine())
    render_letter(next(letters(1)))  # first use loads font metrics and qrcode's tables
    before = rss_mib()

    with tempfile.TemporaryDirectory() as scratch:
        path = args.out or Path(scratch) / "batch.pdf"
        started = time.perf_counter()
        with path.open("wb") as out:
            pages = render_batch(letters(args.letters), out)
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    sample = list(letters(500, seed=6))
    started = time.perf_counter()
    for letter in sample:
        render_letter(letter)
    single = (time.perf_counter() - started) / len(sample)

    print(f"batch: {pages:,} pages in {seconds:,.1f} s = {pages / seconds:,.0f} letters/s")
    print(f"file: {size / 2**20:,.1f} MiB ({size / pages:,.0f} bytes a letter)")
    print(f"RSS: {before:,.0f} MiB before the batch, {peak:,.0f} MiB at peak")
    print(f"render_letter alone: {single * 1000:.2f} ms a letter ({1 / single:,.0f}/s)")
    million = 1_000_000 / (pages / seconds)
    print(f"1,000,000 letters on one core: {million / 60:,.1f} min")


if __name__ == "__main__":
    main()
