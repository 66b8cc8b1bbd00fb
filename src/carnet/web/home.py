"""The welcome page at ``/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
)


def home_context(*, fhir_base_url: str) -> dict[str, Any]:
    return {
        "title": "Carnet — votre espace santé",
        "fhir_metadata": f"{fhir_base_url}/metadata",
        "smart_configuration": f"{fhir_base_url}/.well-known/smart-configuration",
    }


def build_home_router(*, fhir_base_url: str) -> APIRouter:
    router = APIRouter()
    template = _templates.get_template("home.html")

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home(_request: Request) -> HTMLResponse:
        return HTMLResponse(template.render(**home_context(fhir_base_url=fhir_base_url)))

    return router
