"""Telling the person about their own account: the "new sign-in" e-mail.

A sign-in that completes on a browser the account does not trust (a trusted device skips the
code, so every code-checked sign-in is one) is announced by e-mail, after commit, through the
outbox. The message says when, on what kind of browser (its family and system, never the full
user-agent string, which can single a machine out), and links to the security page where the
session can be closed; it names nothing else: no login, no address, no health data.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any, Final

from sqlalchemy import Connection

from carnet.identity.accounts.context import AccountsContext
from carnet.notify import service as notify_service

SECURITY_PAGE: Final = "/compte/securite"

# Order matters: Edge and Opera announce themselves as Chrome too, Chrome as Safari.
_BROWSERS: Final = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS: Final = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def describe_agent(user_agent: str | None) -> str:
    """A rough description of a browser (« Firefox, Windows »), or "" when nothing is known."""
    agent = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), "")
    return ", ".join(part for part in (browser, system) if part)


def announce_new_sign_in(
    ctx: AccountsContext, db: Connection, account: Any, *, user_agent: str | None
) -> None:
    """Queue the "new sign-in" e-mail to the account's address (nothing without one)."""
    if account.email_sealed is None:
        return
    email = ctx.sealer.open(account.email_sealed, context=f"{account.id}:email")
    notify_service.queue_email(
        db,
        ctx.jobs,
        to=email,
        template="new_sign_in",
        context={
            "signed_in_at": ctx.clock.now().astimezone(UTC).isoformat(timespec="minutes"),
            "device": describe_agent(user_agent),
            "link": ctx.public_base_url.rstrip("/") + SECURITY_PAGE,
        },
        language=account.language,
    )
