"""Upload checks: type sniffed from the bytes, size, active content, image bombs, text."""

from __future__ import annotations

import pytest
from tests.documents import files

from carnet.documents import errors
from carnet.documents.checks import check_upload


@pytest.mark.parametrize(
    ("content", "name", "media"),
    [
        (files.pdf(), "compte-rendu.PDF", "application/pdf"),
        (files.image("JPEG"), "photo.jpeg", "image/jpeg"),
        (files.image("JPEG"), "photo.jpg", "image/jpeg"),
        (files.image("TIFF"), "scan.tif", "image/tiff"),
        (files.image("TIFF"), "scan.tiff", "image/tiff"),
        (files.rtf(), "lettre.rtf", "text/rtf"),
        ("Tension 12/8, café ☕".encode(), "notes.txt", "text/plain; charset=utf-8"),
        ("Fièvre".encode("cp1252"), "vieux.txt", "text/plain; charset=windows-1252"),
    ],
)
def test_accepted_files(content: bytes, name: str, media: str) -> None:
    assert check_upload(content, name).content_type == media


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (b"", "vide.pdf", errors.EmptyFile),
        (files.pdf(), "document.docx", errors.UnsupportedFormat),
        (files.pdf(), "sans-extension", errors.UnsupportedFormat),
        (files.image("PNG"), "image.png", errors.UnsupportedFormat),
        (files.image("JPEG"), "faux.pdf", errors.ContentMismatch),
        (files.pdf(), "faux.jpg", errors.ContentMismatch),
        (files.image("PNG"), "faux.jpg", errors.ContentMismatch),
        (b"MZ\x90\x00\x03\x00\x00\x00", "programme.pdf", errors.ContentMismatch),
        (files.pdf(), "faux.txt", errors.ContentMismatch),
        (files.image("PNG"), "binaire.txt", errors.UnreadableText),
        (b"texte\x00binaire", "nul.txt", errors.UnreadableText),
        (b"pas du rtf", "lettre.rtf", errors.ContentMismatch),
        (files.rtf(b"{\\object\\objemb{\\objdata 0102}}"), "objet.rtf", errors.ActiveContent),
        (b"\xff\xd8\xff\xe0 garbage", "casse.jpg", errors.DamagedFile),
    ],
)
def test_refused_files(content: bytes, name: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        check_upload(content, name)
    assert isinstance(raised.value, errors.DocumentRefused)


def test_size_limit_is_a_parameter() -> None:
    content = files.pdf()
    check_upload(content, "a.pdf", max_bytes=len(content))
    with pytest.raises(errors.FileTooLarge):
        check_upload(content, "a.pdf", max_bytes=len(content) - 1)
    with pytest.raises(errors.FileTooLarge):
        check_upload(b"x" * (5 * 1024 * 1024 + 1), "grand.txt")


@pytest.mark.parametrize(
    "extra",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction 4 0 R /Names << /JavaScript 6 0 R >>",
        b"/OpenAction << /S /J#61vaScript /J#53 (x) >>",
        b"/AA << /O << /S /Launch /F (cmd.exe) >> >>",
        b"/Names << /EmbeddedFiles 7 0 R >>",
        b"/OpenAction << /S /Launch /F (calc) >>",
    ],
)
def test_pdfs_with_active_content_are_refused(extra: bytes) -> None:
    with pytest.raises(errors.ActiveContent):
        check_upload(files.pdf(extra), "piege.pdf")


def test_a_script_hidden_in_a_compressed_object_stream_is_found() -> None:
    check_upload(files.pdf_with_object_stream(b"/PageMode /UseNone"), "propre.pdf")
    with pytest.raises(errors.ActiveContent):
        check_upload(files.pdf_with_object_stream(b"/OpenAction << /JS (x) >>"), "piege.pdf")


def test_object_streams_the_scan_cannot_read_are_refused() -> None:
    lzw = files.pdf_with_object_stream(b"").replace(b"/FlateDecode", b"/LZWDecode")
    with pytest.raises(errors.DamagedFile):
        check_upload(lzw, "lzw.pdf")
    broken = files.pdf_with_object_stream(b"").replace(b"stream\nx", b"stream\nXX")
    with pytest.raises(errors.DamagedFile):
        check_upload(broken, "casse.pdf")


def test_a_plain_open_action_is_accepted() -> None:
    check_upload(files.pdf(b"/OpenAction [3 0 R /Fit]"), "ouvrir.pdf")


def test_image_bombs_are_refused() -> None:
    with pytest.raises(errors.ImageTooLarge):
        check_upload(files.jpeg_claiming(60_000, 60_000), "bombe.jpg")
    bomb = files.big_bilevel_tiff()
    assert len(bomb) < 100_000
    with pytest.raises(errors.ImageTooLarge):
        check_upload(bomb, "bombe.tif")
