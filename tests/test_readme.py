"""The README documents every setting and opens with the two commands."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from carnet.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _variables(model: type[BaseModel], prefix: str = "CARNET_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_variables(annotation, f"{prefix}{name.upper()}__"))
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    missing = [name for name in _variables(Settings) if f"`{name}`" not in text]
    assert missing == []


def test_the_two_commands_come_first() -> None:
    head = "\n".join(README.read_text().splitlines()[:30])
    assert "make run" in head
    assert "make test" in head
