"""The printable letter (issue 5): one A4 page per person, the code, the deadline, a vector QR
code of the activation page; print batches as one PDF written page by page.

No PDF library is a dependency, so the tests read the files with the small reader of
``tests.enrollment.pdf_reader``. No QR decoder is available offline either: the squares
drawn are turned back into a module matrix and compared with the qrcode library's own.
"""

from __future__ import annotations

import gc
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
import qrcode
import qrcode.constants
from tests.enrollment.pdf_reader import drawn_qr, pages, read_pdf, texts

from carnet.enrollment.letters import (
    LetterInput,
    french_date,
    qr_matrix,
    render_batch,
    render_letter,
)

URL = "https://carnet.example.fr/activer"
MM = 72 / 25.4
A4_HEIGHT = 841.89


def a_letter(**changes: object) -> LetterInput:
    letter = LetterInput(
        civility="Madame",
        given_names="Éloïse",
        family_name="Le Gall",
        address_lines=("14 rue des Lilas", "29200 BREST"),
        code="K7PQ-4XMT-9WZR",
        activation_url=URL,
        opposition_deadline=date(2027, 2, 15),
        letter_date=date(2026, 12, 1),
    )
    return replace(letter, **changes)  # type: ignore[arg-type]


# --- the letter -------------------------------------------------------------------------------


def test_a_letter_is_one_a4_page_of_a_well_formed_pdf() -> None:
    objects = read_pdf(render_letter(a_letter()))

    assert len(pages(objects)) == 1
    (page,) = (o for o in objects.values() if o.dictionary.startswith(b"<< /Type /Page "))
    assert b"/MediaBox [0 0 595.28 841.89]" in page.dictionary
    assert not any(b"/Image" in o.dictionary for o in objects.values()), "no raster anywhere"


def test_the_page_gives_the_code_the_deadline_and_how_to_activate_or_oppose() -> None:
    (content,) = pages(read_pdf(render_letter(a_letter())))
    lines = [t.text for t in texts(content)]
    prose = " ".join(lines)

    assert "K7PQ-4XMT-9WZR" in lines
    assert "Date limite d’opposition : 15 février 2027" in lines
    assert "Le 1er décembre 2026" in lines
    assert "vous opposer à son ouverture jusqu’au 15 février 2027 inclus" in prose
    assert f"rendez-vous sur {URL}" in prose
    assert "Madame," in lines


def test_the_address_sits_in_the_window_of_a_dl_envelope() -> None:
    (content,) = pages(read_pdf(render_letter(a_letter())))
    by_text = {t.text: t for t in texts(content)}

    block = [by_text[line] for line in ("Madame Éloïse LE GALL", "14 rue des Lilas", "29200 BREST")]
    for line in block:
        # Window: 100 × 45 mm, 20 mm from the right edge, about 50 mm from the top.
        assert line.x == pytest.approx(100 * MM, abs=0.01)
        assert A4_HEIGHT - 85 * MM < line.y < A4_HEIGHT - 50 * MM
    assert [line.y for line in block] == sorted((line.y for line in block), reverse=True)


def test_an_address_line_too_long_for_the_window_is_set_smaller_not_cut() -> None:
    long_line = "Résidence des Grands Chênes, bâtiment C, escalier 4, porte 12"
    (content,) = pages(read_pdf(render_letter(a_letter(address_lines=(long_line, "29200 BREST")))))
    by_text = {t.text: t for t in texts(content)}

    assert by_text[long_line].size < 10
    assert by_text["29200 BREST"].size == by_text[long_line].size  # one size for the block


def test_names_outside_the_fonts_lose_their_accents_rather_than_the_letter() -> None:
    letter = a_letter(civility="", given_names="Zsófia", family_name="Kőrösi")
    (content,) = pages(read_pdf(render_letter(letter)))
    lines = [t.text for t in texts(content)]

    assert "Zsófia KORÖSI" in lines  # ő is not in WinAnsi; ó and Ö are
    assert "Madame, Monsieur," in lines


def test_the_qr_code_drawn_is_the_activation_url_and_nothing_else() -> None:
    drawn = drawn_qr(read_pdf(render_letter(a_letter())))

    # Built here with the qrcode library directly, so a mistake in qr_matrix cannot hide.
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    reference.add_data(URL)
    reference.make(fit=True)
    assert drawn == [[bool(m) for m in row] for row in reference.get_matrix()]
    assert drawn == [list(row) for row in qr_matrix(URL)]
    assert drawn != [list(row) for row in qr_matrix(f"{URL}?code=K7PQ-4XMT-9WZR")]


@pytest.mark.parametrize(
    "url",
    [
        "https://carnet.example.fr/activer/K7PQ-4XMT-9WZR",
        "https://carnet.example.fr/activer/k7pq4xmt9wzr",  # the code without its dashes
        "https://carnet.example.fr/activer?code=1",
        "https://carnet.example.fr/activer?",
        "https://carnet.example.fr/activer#patient",
        "http://carnet.example.fr/activer",
        "https://user:secret@carnet.example.fr/activer",
        "https://carnet.example.fr/" + "a" * 120,
    ],
)
def test_the_activation_url_carries_no_code_and_no_identifier(url: str) -> None:
    with pytest.raises(ValueError, match="activation URL"):
        a_letter(activation_url=url)


def test_a_letter_refuses_what_would_not_print_or_not_make_sense() -> None:
    with pytest.raises(ValueError, match="address lines"):
        a_letter(address_lines=())
    with pytest.raises(ValueError, match="address lines"):
        a_letter(address_lines=("a",) * 6)
    with pytest.raises(ValueError, match="code"):
        a_letter(code=" ")
    with pytest.raises(ValueError, match="deadline"):
        a_letter(opposition_deadline=date(2026, 12, 1))


def test_a_letter_never_shows_its_values_in_a_repr() -> None:
    assert repr(a_letter()) == "LetterInput(<hidden>)"


def test_the_same_letter_gives_the_same_bytes() -> None:
    first = render_letter(a_letter())

    assert render_letter(a_letter()) == first
    assert render_letter(a_letter(code="M3TX-8KQP-2RZD")) != first


@pytest.mark.parametrize(
    ("day", "prose"),
    [(date(2027, 3, 1), "1er mars 2027"), (date(2027, 8, 15), "15 août 2027")],
)
def test_dates_are_written_in_french(day: date, prose: str) -> None:
    assert french_date(day) == prose


# --- print batches ----------------------------------------------------------------------------


def test_a_batch_is_one_pdf_with_a_page_per_letter_in_order() -> None:
    codes = ["AAAA-1111", "BBBB-2222", "CCCC-3333"]
    out = io.BytesIO()

    assert render_batch((a_letter(code=code) for code in codes), out) == 3

    objects = read_pdf(out.getvalue())
    contents = pages(objects)
    assert [[t.text for t in texts(c) if t.text in codes] for c in contents] == [[c] for c in codes]
    forms = [o for o in objects.values() if b"/Subtype /Form" in o.dictionary]
    assert len(forms) == 1, "one QR form shared by every page with the same URL"


def test_an_empty_batch_is_a_pdf_without_pages() -> None:
    out = io.BytesIO()

    assert render_batch([], out) == 0
    assert pages(read_pdf(out.getvalue())) == []


class Sink(io.RawIOBase):
    """Counts what is written and keeps nothing (the batch's memory only is measured)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        assert isinstance(data, bytes)
        self.size += len(data)
        return len(data)


def many(count: int) -> Iterator[LetterInput]:
    for number in range(count):
        yield a_letter(code=f"C{number:07d}")


def peak_while_rendering(count: int) -> int:
    sink = Sink()
    gc.collect()  # garbage of earlier tests must not count
    tracemalloc.start()
    try:
        assert render_batch(many(count), sink) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_batch_of_a_thousand_letters_stays_in_bounded_memory() -> None:
    render_batch(many(2), Sink())  # first use: fonts metrics and qrcode tables load once
    small, large = peak_while_rendering(100), peak_while_rendering(1000)

    # Held by a ReportLab canvas until save(), 1,000 pages would take several MiB (2.5 KB of
    # drawing operators a page, then the whole file formatted in memory). Streamed, the peak
    # is one page at a time (about 330 KiB measured, mostly the QR code's construction) plus
    # 20 bytes a page for the cross-reference table and the page tree.
    assert large < 1024 * 1024
    assert large - small < 64 * 1024
