"""Reading the mail relay's delivery reports back to notices (``carnet enrollment bounces``).

What a file may hold, recognised from its first bytes:

- **One report** (an RFC 5322 message), **an mbox** of reports (``From `` lines), or **a
  directory** of report files (a Maildir's ``new``/``cur``, or any folder: one message a file).
  A report is a ``multipart/report`` parsed with the stdlib ``email`` package:
  ``report-type=delivery-status`` (a DSN, RFC 3464) counts when one of its recipients has
  ``Action: failed`` (a delay, a delivery or a relay is no bounce); ``report-type=
  feedback-report`` (ARF, RFC 5965: a recipient's "this is spam") counts too, because a notice
  filed as spam may never be read, and the law wants the person told: they get a letter.
  The notice is named by the report's ``Original-Envelope-Id`` (the DSN envelope id notify
  sets when the relay offers DSN) or the returned headers' ``Message-ID`` (both carry
  ``notices.notice_reference``).
- **An export** from the relay: one Message-ID (or envelope id) of a bounced message per line;
  blank lines and lines starting with ``#`` are skipped, and only the first field of a line
  (split on spaces, commas, semicolons or tabs) is read.

References that name no notice (other e-mails, noise) are counted, never an error: a relay's
export holds everything it sent.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Final

from carnet.enrollment.notices import notice_from_reference

_HEADER_LINE: Final = re.compile(rb"[A-Za-z0-9-]{1,76}:")
_FIELD_SEPARATORS: Final = re.compile(r"[\s,;]+")


@dataclass(slots=True)
class BounceReading:
    """What a file held: the notices' references to mark bounced, and what else was seen."""

    references: list[str] = field(default_factory=list)
    reports: int = 0
    """Messages or lines read."""
    bounces: int = 0
    """Reports of a failure (DSN ``failed``, or export lines) naming a notice."""
    complaints: int = 0
    """ARF reports naming a notice (turned to letters as well)."""
    ignored: int = 0
    """Delays, deliveries, and reports or lines naming no notice."""


def read_bounces(path: Path) -> BounceReading:
    """Read ``path`` (a report, an mbox, a directory or an export: see the module docstring).
    Raises ``OSError`` when it cannot be read."""
    reading = BounceReading()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            _take(
                reading, email.message_from_bytes(item.read_bytes(), policy=email.policy.compat32)
            )
        return reading
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(b"From "):
        box = mailbox.mbox(path, create=False)
        try:
            for message in box:
                _take(reading, message)
        finally:
            box.close()
    elif _HEADER_LINE.match(start):
        _take(reading, email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32))
    else:
        _read_export(reading, path)
    return reading


def _read_export(reading: BounceReading, path: Path) -> None:
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            reading.reports += 1
            reference = _FIELD_SEPARATORS.split(text, maxsplit=1)[0]
            if notice_from_reference(reference) is None:
                reading.ignored += 1
                continue
            reading.bounces += 1
            reading.references.append(reference)


def _take(reading: BounceReading, message: Message) -> None:
    reading.reports += 1
    report_type = (message.get_param("report-type") or "") if message.is_multipart() else ""
    kind = str(report_type).lower()
    if message.get_content_type() != "multipart/report" or kind not in {
        "delivery-status",
        "feedback-report",
    }:
        reading.ignored += 1
        return
    if kind == "delivery-status" and not _failed(message):
        reading.ignored += 1  # delayed, delivered, relayed: not a bounce
        return
    reference = next(
        (ref for ref in _references(message) if notice_from_reference(ref) is not None), None
    )
    if reference is None:
        reading.ignored += 1
        return
    reading.references.append(reference)
    if kind == "delivery-status":
        reading.bounces += 1
    else:
        reading.complaints += 1


def _status_blocks(message: Message) -> Iterator[Message]:
    """The header blocks of the ``message/delivery-status`` part (per message, then per
    recipient); the stdlib parser gives them as a list of messages."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                yield from (block for block in payload if isinstance(block, Message))


def _failed(message: Message) -> bool:
    return any(
        str(block.get("Action", "")).strip().lower() == "failed"
        for block in _status_blocks(message)
    )


def _references(message: Message) -> Iterator[str]:
    """Where a report names the original message: the envelope id, then the returned
    headers' Message-ID (a ``message/rfc822`` part, or ``text/rfc822-headers``)."""
    for block in _status_blocks(message):
        envelope_id = block.get("Original-Envelope-Id")
        if envelope_id:
            yield str(envelope_id).strip()
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in {"message/rfc822", "message/global"}:
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                yield str(inner["Message-ID"]).strip()
        elif content_type in {"text/rfc822-headers", "message/global-headers"}:
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
                if headers.get("Message-ID"):
                    yield str(headers["Message-ID"]).strip()
