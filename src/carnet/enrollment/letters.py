"""The printable letter of a notification wave, for people without a usable e-mail address or
whose e-mail bounced: one A4 page announcing their space, with their one-time code and a QR
code to the activation page.

Pure functions, no database: ``render_letter`` gives one letter's PDF, ``render_batch`` writes a
print batch as one merged PDF, page by page (``letters_pdf``), in bounded memory.

Invariants:
- The letter holds no health data: identity and postal address, the code, two dates, the URL.
- The QR code encodes the activation URL only, the same for everyone: never the code, never an
  identifier (``LetterInput`` refuses a URL with a query, a fragment or the code in it). A QR
  code photographed from an envelope or a bin then opens a page and nothing more.
- The QR code is drawn as vector squares (one form per distinct URL, shared by the pages), never
  as an image, so it stays sharp at any print resolution.
- The same input gives the same bytes (no dates or random identifiers in the file).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import BinaryIO, Final, Literal
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
from reportlab.lib.pagesizes import A4

from carnet.enrollment.letters_pdf import PageContent, PdfWriter, printable, text_width, wrap

Civility = Literal["Madame", "Monsieur", ""]

_MM: Final = 72 / 25.4  # points in a millimetre
_WIDTH: Final[float] = A4[0]
_HEIGHT: Final[float] = A4[1]
_LEFT: Final = 20 * _MM
_TEXT_WIDTH: Final = _WIDTH - 2 * _LEFT

# The address block, for a DL envelope (110 × 220 mm) with its window on the right, as French
# mail mostly uses (window about 100 × 45 mm, 20 mm from the right edge, 50 to 55 mm from the
# top): with the sheet folded in three, a block starting 100 mm from the left and 50 mm from the
# top, 90 mm wide and 35 mm high, shows through the window with a margin on every side.
# AFNOR NF Z10-011 allows six lines; ours are the name and up to five address lines.
_ADDRESS_LEFT: Final = 100 * _MM
_ADDRESS_TOP: Final = _HEIGHT - 50 * _MM
_ADDRESS_WIDTH: Final = 90 * _MM
_ADDRESS_LINES: Final = 5
_ADDRESS_SIZES: Final = (10.0, 9.0, 8.0)  # a long line is set smaller rather than cut

_BODY_SIZE: Final = 10.5
_LEADING: Final = 14.0
_QR_SIDE: Final = 30 * _MM  # 1 mm modules up to version 3 (a 29-module symbol)
_QR_LEVEL: Final = qrcode.constants.ERROR_CORRECT_M  # survives a crease or a stain (15 %)
_URL_MAX: Final = 120  # keeps modules ≥ 0.6 mm (version 7 at level M holds 122 bytes)

_SENDER: Final = (
    "Carnet, votre espace santé",
    "Service des ouvertures d’espaces",
    "pour le compte de l’Assurance Maladie",
)
_MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True, slots=True)
class LetterInput:
    """What one letter says. ``address_lines`` follow the name (street, place, postcode and
    city…); ``activation_url`` is the activation page, the same for every letter."""

    civility: Civility
    given_names: str
    family_name: str
    address_lines: tuple[str, ...]
    code: str
    activation_url: str
    opposition_deadline: date
    letter_date: date

    def __post_init__(self) -> None:
        if not 1 <= len(self.address_lines) <= _ADDRESS_LINES:
            raise ValueError(f"a letter needs 1 to {_ADDRESS_LINES} address lines")
        if not self.code.strip() or len(self.code) > 24:
            raise ValueError("the one-time code must be 1 to 24 characters")
        _check_url(self.activation_url, self.code)
        if self.opposition_deadline <= self.letter_date:
            raise ValueError("the opposition deadline must come after the letter's date")

    def __repr__(self) -> str:
        # Never the values: the code and the address must not reach logs or tracebacks.
        return "LetterInput(<hidden>)"


def _check_url(url: str, code: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ValueError("the activation URL must be https, with a host and no credentials")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("the activation URL must carry no query or fragment")
    if len(url) > _URL_MAX:
        raise ValueError(f"the activation URL must be at most {_URL_MAX} characters")
    if _letters_and_digits(code) in _letters_and_digits(url):
        raise ValueError("the activation URL must not contain the code")


def _letters_and_digits(text: str) -> str:
    # A code printed "AB12-CD34" must not hide in a URL as "ab12cd34" either.
    return "".join(char for char in text.upper() if char.isalnum())


@functools.lru_cache(maxsize=8)
def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of ``url`` as rows of modules, top row first (True is dark), without the
    quiet zone: exactly what the letter draws. Cached: every letter has the same URL, and
    building the code costs more than the rest of the page."""
    code = qrcode.QRCode(error_correction=_QR_LEVEL, border=0)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(bool(module) for module in row) for row in code.get_matrix())


def french_date(day: date) -> str:
    """``day`` as French prose: "1er mars 2027", "15 août 2027"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def render_letter(letter: LetterInput) -> bytes:
    """``letter`` as a one-page A4 PDF."""
    buffer = BytesIO()
    render_batch([letter], buffer)
    return buffer.getvalue()


def render_batch(letters: Iterable[LetterInput], out: BinaryIO) -> int:
    """Write ``letters`` into ``out`` as one PDF, one page each, in order; the page count.

    Pages are written as they are drawn, so memory does not grow with the batch (but for
    20 bytes a letter of bookkeeping); ``out`` needs only ``write``."""
    writer = PdfWriter(out, width=_WIDTH, height=_HEIGHT, title="Courriers d’ouverture")
    forms: dict[str, tuple[int, int]] = {}  # URL → (form object, modules a side)
    for letter in letters:
        if letter.activation_url not in forms:
            forms[letter.activation_url] = _add_qr_form(writer, letter.activation_url)
        form, modules = forms[letter.activation_url]
        writer.add_page(_draw(letter, qr_modules=modules), form=form)
    return writer.close()


def _add_qr_form(writer: PdfWriter, url: str) -> tuple[int, int]:
    """The URL's QR code as a form in module units: one square per run of dark modules in a
    row (fewer operators than one per module), rows from the top down."""
    matrix = qr_matrix(url)
    side = len(matrix)
    squares = []
    for row_number, row in enumerate(matrix):
        y = side - 1 - row_number
        column = 0
        while column < side:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < side and row[column]:
                column += 1
            squares.append(b"%d %d %d 1 re" % (start, y, column - start))
    content = b"0 g\n" + b"\n".join(squares) + b"\nf\n"
    return writer.add_form(content, size=side), side


def _draw(letter: LetterInput, *, qr_modules: int) -> PageContent:
    page = PageContent()
    _sender_and_date(page, letter)
    _address(page, letter)
    y = _ADDRESS_TOP - 55 * _MM
    page.text(_LEFT, y, "Objet : ouverture de votre espace santé", font="bold", size=_BODY_SIZE)
    y -= 2 * _LEADING
    salutation = letter.civility or "Madame, Monsieur"
    page.text(_LEFT, y, f"{salutation},", font="regular", size=_BODY_SIZE)
    y = _paragraphs(page, y - 1.5 * _LEADING, _opening(letter))
    y = _code_and_qr(page, y, letter, qr_modules)
    y = _paragraphs(page, y, _closing(salutation))
    page.text(_WIDTH - _LEFT - 50 * _MM, y - _LEADING, "Le service Carnet", font="bold", size=10.5)
    page.text(
        _LEFT, 12 * _MM, "Ce courrier ne contient aucune donnée de santé.", font="regular", size=8
    )
    return page


def _sender_and_date(page: PageContent, letter: LetterInput) -> None:
    y = _HEIGHT - 20 * _MM
    page.text(_LEFT, y, _SENDER[0], font="bold", size=12)
    for line in _SENDER[1:]:
        y -= 12
        page.text(_LEFT, y, line, font="regular", size=9)
    dated = f"Le {french_date(letter.letter_date)}"
    page.text(_WIDTH - _LEFT - text_width(dated, "regular", 10), y, dated, font="regular", size=10)


def _address(page: PageContent, letter: LetterInput) -> None:
    # La Poste reads the family name in capitals best; the whole block keeps one size.
    name = " ".join(
        part for part in (letter.civility, letter.given_names, letter.family_name.upper()) if part
    )
    lines = [printable(line) for line in (name, *letter.address_lines)]
    size = _ADDRESS_SIZES[-1]
    for candidate in _ADDRESS_SIZES:
        if all(text_width(line, "regular", candidate) <= _ADDRESS_WIDTH for line in lines):
            size = candidate
            break
    y = _ADDRESS_TOP - size
    for line in lines:
        page.text(_ADDRESS_LEFT, y, line, font="regular", size=size)
        y -= size * 1.25


def _opening(letter: LetterInput) -> tuple[str, ...]:
    deadline = french_date(letter.opposition_deadline)
    return (
        (
            "Un espace santé personnel va être ouvert à votre nom. Vous pourrez y conserver vos "
            "documents médicaux, les partager avec les professionnels de santé de votre choix et "
            "échanger avec eux par une messagerie sécurisée. Vous décidez de ce qu’il contient et "
            "de qui peut le consulter."
        ),
        "Nous vous écrivons par courrier car nous n’avons pas pu vous joindre par courriel.",
        (
            f"Si vous ne souhaitez pas de cet espace, vous pouvez vous opposer à son ouverture "
            f"jusqu’au {deadline} inclus. Passé cette date, il sera ouvert ; vous pourrez toujours "
            f"le fermer ensuite. Ce courrier vaut aussi pour les enfants mineurs qui vous sont "
            f"rattachés : vous pouvez vous opposer pour eux de la même façon."
        ),
        (
            f"Pour l’activer dès maintenant, ou pour vous opposer à son ouverture, rendez-vous sur "
            f"{letter.activation_url} (ou scannez le code QR ci-dessous) et saisissez votre code "
            f"personnel."
        ),
    )


def _closing(salutation: str) -> tuple[str, ...]:
    return (
        (
            "Ce code ne sert qu’une fois. Gardez-le pour vous : personne ne vous le demandera, ni "
            "par téléphone, ni par SMS, ni par courriel."
        ),
        f"Veuillez agréer, {salutation}, l’expression de nos salutations distinguées.",
    )


def _paragraphs(page: PageContent, y: float, paragraphs: tuple[str, ...]) -> float:
    for paragraph in paragraphs:
        for line in wrap(paragraph, "regular", _BODY_SIZE, _TEXT_WIDTH):
            page.text(_LEFT, y, line, font="regular", size=_BODY_SIZE)
            y -= _LEADING
        y -= 6
    return y


def _code_and_qr(page: PageContent, y: float, letter: LetterInput, modules: int) -> float:
    """The code in a frame on the left, the QR code on the right, side by side."""
    # The QR code needs a quiet zone of four modules (4 mm here) on every side: the frame
    # stands 40 mm to its left, the text above ends a whole line higher, the caption is 7 mm
    # below.
    top = y - 4
    box_height = _QR_SIDE
    page.frame(_LEFT, top - box_height, 100 * _MM, box_height, line=0.8)
    page.text(_LEFT + 5 * _MM, top - 9 * _MM, "Votre code personnel", font="regular", size=10)
    page.text(_LEFT + 5 * _MM, top - 18 * _MM, letter.code, font="code", size=18)
    deadline = f"Date limite d’opposition : {french_date(letter.opposition_deadline)}"
    page.text(_LEFT + 5 * _MM, top - 26 * _MM, deadline, font="bold", size=10)
    qr_left = _WIDTH - _LEFT - _QR_SIDE
    page.form(qr_left, top - _QR_SIDE, _QR_SIDE / modules)
    caption = top - _QR_SIDE - 7 * _MM
    page.text(qr_left, caption, "Page d’activation", font="regular", size=8)
    return caption - 1.5 * _LEADING
