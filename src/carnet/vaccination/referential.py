"""The vaccine referential, as data (``data/vaccines.json``): the diseases of the French
schedule and the vaccines against them, with their WHO ATC codes.

Loaded once per process; a vaccine is known by Carnet's code (``ror``), and its Immunizations
carry both that code and the ATC code, which other systems understand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from carnet.vaccination.schemas import Label

ATC_SYSTEM: Final = "http://www.whocc.no/atc"
VACCINE_SYSTEM: Final = "urn:carnet:vaccination:vaccin"
"""Carnet's own vaccine codes (the referential's ``code``)."""
DISEASE_SYSTEM: Final = "urn:carnet:vaccination:maladie"


@dataclass(frozen=True, slots=True)
class Disease:
    code: str
    label: Label


@dataclass(frozen=True, slots=True)
class Vaccine:
    code: str
    label: Label
    atc: str
    diseases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Referential:
    diseases: dict[str, Disease]
    vaccines: dict[str, Vaccine]

    def vaccine(self, code: str) -> Vaccine | None:
        return self.vaccines.get(code)

    def disease_label(self, code: str) -> Label:
        disease = self.diseases.get(code)
        return disease.label if disease is not None else Label(code, code)


def load_data(name: str) -> dict[str, Any]:
    text = resources.files("carnet.vaccination").joinpath("data", name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def referential() -> Referential:
    """The referential (read once; a vaccine naming an unknown disease is a data error)."""
    data = load_data("vaccines.json")
    diseases = {d["code"]: Disease(d["code"], Label(d["fr"], d["en"])) for d in data["diseases"]}
    vaccines: dict[str, Vaccine] = {}
    for v in data["vaccines"]:
        unknown = set(v["diseases"]) - diseases.keys()
        if unknown:
            raise ValueError(f"vaccine {v['code']} names unknown diseases {sorted(unknown)}")
        vaccines[v["code"]] = Vaccine(
            v["code"], Label(v["fr"], v["en"]), v["atc"], tuple(v["diseases"])
        )
    return Referential(diseases=diseases, vaccines=vaccines)
