"""The patient's summary pages (issue 6): to be built."""

from __future__ import annotations

from fastapi import APIRouter

from carnet.web.rendering import Portal


def build_router(_portal: Portal) -> APIRouter:
    return APIRouter()
