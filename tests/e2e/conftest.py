"""Browser tests: a real server on loopback, Debian's Chromium driven by Playwright.

Every page a test visits goes through ``Visitor.check``: axe-core runs on it (a serious or
critical violation fails the test), the page must have caused no CSP violation, no script error
and no failed sub-resource, and a screenshot is kept under ``tests/artifacts/screenshots``. At the
end of each test, every page the browser navigated to must have been checked.

Playwright's own browser download cannot work on these machines: ``/usr/bin/chromium`` (Debian's
package, installed by ``.ci/run``) is launched through ``executable_path``. Without it the tier
is skipped, saying why, except in CI (``CI=true``) where that is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from carnet.app import create_app
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings
from carnet.web.config import PortalSettings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CARNET_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
CSP_LISTENER = """
window.__carnetCsp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  // Where it came from, so that a violation seen once under load can be traced to its source.
  const target = e.target instanceof Element ? e.target.outerHTML.slice(0, 120) : String(e.target);
  window.__carnetCsp.push(
    `${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`
    + ` sample=${e.sample} target=${target}`);
});
"""
AXE_RUN = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
}
"""


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if not missing:
        return
    message = f"browser tests need {', '.join(missing)} (apt-get install chromium; make install)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """``carnet serve`` in a thread: the real app, uvicorn, a free loopback port."""

    runtime: Runtime
    base: str = ""
    port: int = 0
    """0: a free one. Given when the runtime must know its public URL beforehand."""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        port = self.port or _free_port()
        self.base = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(self.runtime),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                pytest.fail("the live server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(10)


def _server(settings: Settings, **portal: Any) -> Iterator[LiveServer]:
    runtime = build_runtime(
        settings.model_copy(update={"portal": PortalSettings(**portal)}), configure_logs=False
    )
    server = LiveServer(runtime).start()
    yield server
    server.stop()
    runtime.close()


@pytest.fixture(scope="session")
def neutral_server(settings: Settings) -> Iterator[LiveServer]:
    yield from _server(settings)


@pytest.fixture(scope="session")
def etat_server(settings: Settings) -> Iterator[LiveServer]:
    yield from _server(settings, brand="etat", service_name="Mon carnet de santé")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "accueil"


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


@dataclass
class Visitor:
    """A person in a browser: visits pages and has each one checked."""

    page: Any
    base: str
    name: str
    navigated: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    shots: int = 0

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.check()
        return response

    def navigate(self, action: Callable[[], None]) -> Any:
        """Do what leads to another page (a click, a submission), then check that page."""
        with self.page.expect_navigation() as navigation:
            action()
        self.check()
        return navigation.value

    def check(self) -> None:
        page = self.page
        page.wait_for_load_state("load")
        url = _without_fragment(page.url)
        self.shots += 1
        page.screenshot(
            path=SCREENSHOTS / f"{self.name}-{self.shots:02d}-{_slug(url[len(self.base) :])}.png",
            full_page=True,
            # Playwright hides the text caret by injecting an inline style, which our CSP
            # rightly blocks and reports: seen as a rare "style-src-attr" violation when a
            # field has the focus. The caret in a screenshot harms nothing.
            caret="initial",
        )
        violations = page.evaluate(AXE_RUN)
        csp = page.evaluate("window.__carnetCsp")
        self.checked.add(url)
        problems, self.problems = self.problems, []
        assert not violations, f"axe on {url}: {violations}"
        assert not csp, f"CSP violations on {url}: {csp}"
        assert not problems, f"on {url}: {problems}"

    def attach(self) -> None:
        page = self.page

        def navigated(frame: Any) -> None:
            if frame == page.main_frame:
                self.navigated.append(_without_fragment(frame.url))

        def response(resp: Any) -> None:
            if resp.request.resource_type != "document" and resp.status >= 400:
                self.problems.append(f"{resp.status} for {resp.url}")

        def console(message: Any) -> None:
            if message.type == "error" and "Failed to load resource" not in message.text:
                self.problems.append(f"console: {message.text}")

        page.on("framenavigated", navigated)
        page.on("response", response)
        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))


@pytest.fixture
def visit(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Visitor]]:
    """Opens a fresh browser profile on a server: ``visit(server, locale="fr-FR")``."""
    contexts = []
    visitors = []

    def open_visitor(
        server: LiveServer, *, locale: str = "fr-FR", viewport: dict[str, int] | None = None
    ) -> Visitor:
        context = browser.new_context(
            locale=locale,
            viewport=viewport or {"width": 1280, "height": 900},
            extra_http_headers={
                "Accept-Language": f"{locale},{locale.split('-', maxsplit=1)[0]};q=0.9"
            },
        )
        context.add_init_script(CSP_LISTENER)
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        name = f"{_slug(request.node.name)}-{len(visitors) + 1}"
        visitor = Visitor(page=context.new_page(), base=server.base, name=name)
        visitor.attach()
        visitors.append(visitor)
        return visitor

    yield open_visitor
    try:
        for visitor in visitors:
            unchecked = {u for u in visitor.navigated if u.startswith("http")} - visitor.checked
            assert not unchecked, f"pages visited without the accessibility check: {unchecked}"
    finally:
        for context in contexts:
            context.close()
