"""Static files: the DSFR's distribution (from npm) and the portal's own CSS and icons.

URLs carry a version (the DSFR's package version, a hash of Carnet's own files), so responses are
cached for a year and a release never serves a stale file. Only what pages use is served from
``node_modules``: the DSFR's CSS, JS and icons, and the Marianne font and State favicons only
under the ``etat`` brand (the DSFR's terms reserve them to State services).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from carnet.web.config import Brand

log = logging.getLogger(__name__)

CARNET_STATIC = Path(__file__).parent / "static"
PROJECT_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
DSFR_PACKAGE = "@gouvfr/dsfr"
_DSFR_FILES = ("dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js", "icons/")
_DSFR_STATE_FILES = ("fonts/", "favicon/")
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Assets:
    """Where the static files are and the versioned URLs pages link to."""

    brand: Brand
    dsfr_dir: Path
    dsfr_version: str
    carnet_version: str

    def dsfr(self, name: str) -> str:
        return f"/static/dsfr/{self.dsfr_version}/{name}"

    def carnet(self, name: str) -> str:
        return f"/static/carnet/{self.carnet_version}/{name}"

    @property
    def dsfr_present(self) -> bool:
        return (self.dsfr_dir / "dsfr.min.css").is_file()


def find_assets(*, brand: Brand, node_modules: Path | None) -> Assets:
    """Locate the DSFR package; the portal still starts without it (and says so)."""
    package = (node_modules or PROJECT_NODE_MODULES) / DSFR_PACKAGE
    try:
        version = json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        log.warning("%s is not installed in %s: run `make install`", DSFR_PACKAGE, package.parent)
        version = "absent"
    return Assets(
        brand=brand,
        dsfr_dir=package / "dist",
        dsfr_version=str(version),
        carnet_version=_tree_hash(CARNET_STATIC),
    )


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class _Directory:
    """Serves files under ``root`` whose relative path starts with an allowed prefix."""

    def __init__(self, root: Path, version: str, allowed: tuple[str, ...] | None) -> None:
        self.root = root.resolve()
        self.version = version
        self.allowed = allowed

    async def serve(self, request: Request) -> Response:
        name = request.path_params["path"]
        if request.path_params["version"] != self.version or not self._allowed(name):
            return Response(status_code=404)
        path = (self.root / name).resolve()
        media_type = _TYPES.get(path.suffix)
        if media_type is None or not path.is_relative_to(self.root) or not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type=media_type, headers={"cache-control": _FOREVER})

    def _allowed(self, name: str) -> bool:
        return self.allowed is None or name.startswith(self.allowed)


def asset_routes(assets: Assets) -> list[BaseRoute]:
    """The two static routes (GET and HEAD)."""
    allowed = _DSFR_FILES + (_DSFR_STATE_FILES if assets.brand == "etat" else ())
    dsfr = _Directory(assets.dsfr_dir, assets.dsfr_version, allowed)
    carnet = _Directory(CARNET_STATIC, assets.carnet_version, None)
    return [
        Route("/static/dsfr/{version}/{path:path}", dsfr.serve, methods=["GET", "HEAD"]),
        Route("/static/carnet/{version}/{path:path}", carnet.serve, methods=["GET", "HEAD"]),
    ]
