"""Words for the full-text index: normalised, stop-words dropped, prefixes added (pure).

A word is a run of letters and digits, lower-cased with its accents folded (``Diabète`` →
``diabete``); French elisions split off (``l'asthme`` → ``asthme``). The index holds each word and
each of its prefixes of 3 characters or more, so that a query word matches a stored word or the
start of one (``diab`` finds ``diabète``). Bounds keep a huge document from writing millions of
rows: words are cut at ``MAX_WORD`` characters and a resource keeps at most ``MAX_TERMS`` terms.

``resource_text`` picks the display texts of a structured resource (codes' text and display,
notes, titles, descriptions) for indexing at write time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

MIN_PREFIX = 3
MAX_WORD = 32
MAX_TERMS = 20_000
MAX_QUERY_WORDS = 10
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset(
    {
        "a", "ai", "au", "aux", "avec", "c", "ce", "ces", "cet", "cette", "d", "dans", "de",
        "des", "du", "elle", "elles", "en", "est", "et", "etc", "eu", "il", "ils", "j", "je",
        "l", "la", "le", "les", "leur", "leurs", "lui", "m", "ma", "mais", "me", "mes", "moi",
        "mon", "n", "ne", "ni", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu",
        "que", "qui", "s", "sa", "se", "ses", "si", "son", "sont", "sur", "t", "ta", "te", "tes",
        "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "y", "the", "of", "and",
    }
)  # fmt: skip
"""French articles, pronouns, prepositions and conjunctions (accents folded: ``à`` is ``a``)."""

INDEXED_TYPES = frozenset(
    {
        "Condition", "MedicationStatement", "AllergyIntolerance", "Immunization", "Observation",
        "Procedure", "Encounter", "FamilyMemberHistory", "DocumentReference",
    }
)  # fmt: skip
"""The structured types whose display texts are indexed when they are written."""
_TEXT_KEYS = frozenset({"text", "display", "title", "description"})
_SKIPPED_KEYS = frozenset({"meta", "id", "identifier", "subject", "patient", "contained"})
_MAX_DEPTH = 12


def fold(text: str) -> str:
    """Lower case with accents removed."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return text.lower()


def words(text: str) -> list[str]:
    """The normalised words of a text, stop-words and single characters dropped, in order."""
    found = []
    for match in _WORD.finditer(fold(text)):
        word = match.group()[:MAX_WORD]
        if len(word) > 1 and word not in STOP_WORDS:
            found.append(word)
    return found


def index_terms(text: str) -> set[str]:
    """Every word and prefix (``MIN_PREFIX`` characters or more) to index, at most
    ``MAX_TERMS``."""
    terms: set[str] = set()
    for word in words(text):
        terms.add(word)
        terms.update(word[:end] for end in range(MIN_PREFIX, len(word)))
        if len(terms) >= MAX_TERMS:
            break
    return terms


def query_terms(query: str) -> list[str]:
    """The distinct words a search must all find (at most ``MAX_QUERY_WORDS``)."""
    return list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]


def resource_text(resource: dict[str, Any]) -> str:
    """The display texts of a structured resource, one a line (empty for other types)."""
    if resource.get("resourceType") not in INDEXED_TYPES:
        return ""
    return "\n".join(_texts(resource, 0))


def _texts(value: Any, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _SKIPPED_KEYS:
                continue
            if key in _TEXT_KEYS and isinstance(item, str):
                yield item
            elif key == "note" and isinstance(item, list):
                yield from (n["text"] for n in item if isinstance(n, dict) and "text" in n)
            elif isinstance(item, (dict, list)) and key != "text":
                # A resource's ``text`` (its generated XHTML) is left out: it repeats the rest.
                yield from _texts(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, depth + 1)
