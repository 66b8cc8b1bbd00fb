"""The portal over HTTP: pages, error pages that leak nothing, headers, cookies, static files."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from carnet.app import RequestContextMiddleware, create_app
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings
from carnet.web.config import PortalSettings

PAGES = [
    "/",
    "/preferences",
    "/accessibilite",
    "/mentions-legales",
    "/donnees-personnelles",
    "/plan-du-site",
    "/pro",
    "/admin",
]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_every_page_renders_in_both_languages(client: TestClient) -> None:
    for path in PAGES:
        french = client.get(path)
        english = client.get(path, headers={"accept-language": "en"})
        assert french.status_code == english.status_code == 200, path
        assert '<html lang="fr"' in french.text
        assert '<html lang="en"' in english.text
        assert french.headers["content-language"] == "fr"
        assert english.headers["content-language"] == "en"
        assert french.headers["cache-control"] == "no-store"


def test_security_headers_of_the_portal(client: TestClient) -> None:
    headers = client.get("/").headers
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in headers  # only in production


async def _empty(scope: object, receive: object, send: object) -> None:
    return None


def test_hsts_in_production_only() -> None:
    assert (b"strict-transport-security", b"max-age=63072000") in RequestContextMiddleware(
        _empty,
        hsts=True,  # type: ignore[arg-type]
    ).headers


def test_the_language_cookie_is_set_only_on_request(client: TestClient) -> None:
    page = client.get("/preferences")
    assert "carnet_lang" not in page.headers.get("set-cookie", "")
    token = TOKEN.search(page.text).group(1)
    saved = client.post("/preferences", data={"csrf_token": token, "lang": "en"})
    assert saved.status_code == 200
    assert '<html lang="en"' in saved.text
    cookie = saved.headers["set-cookie"]
    assert cookie.startswith("carnet_lang=en")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    back = client.post(
        "/preferences",
        data={"csrf_token": token, "lang": "fr", "next": "/plan-du-site"},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert back.headers["location"] == "/plan-du-site"
    away = client.post(
        "/preferences",
        data={"csrf_token": token, "lang": "fr", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert away.status_code == 200  # stays here instead of leaving the site


def test_an_invalid_submission_is_a_400_with_the_summary(client: TestClient) -> None:
    token = TOKEN.search(client.get("/preferences").text).group(1)
    response = client.post("/preferences", data={"csrf_token": token, "lang": "xx"})
    assert response.status_code == 400
    assert 'id="resume-erreurs"' in response.text
    assert 'href="#lang-fr"' in response.text
    assert "<title>Erreur : " in response.text
    assert 'aria-describedby="lang-messages"' in response.text


def test_a_post_without_token_gets_the_403_page_in_the_visitors_language(
    client: TestClient,
) -> None:
    french = client.post("/preferences", data={"lang": "en"})
    assert french.status_code == 403
    assert "Action refusée" in french.text
    assert "carnet_lang" not in french.headers.get("set-cookie", "")
    english = client.post("/preferences", data={"lang": "en"}, headers={"accept-language": "en"})
    assert "Action refused" in english.text


@pytest.fixture(scope="module")
def crashing_client(rt: Runtime) -> Iterator[TestClient]:
    app = create_app(rt)
    portal: FastAPI = app.app.portal  # type: ignore[attr-defined]

    def boom() -> None:
        raise RuntimeError("secret detail /home/carnet/var INS 1840775123456")

    def needs_int(n: int) -> str:
        return str(n)

    portal.add_api_route("/test-boom", boom)
    portal.add_api_route("/test-int", needs_int)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_error_pages_leak_nothing(crashing_client: TestClient) -> None:
    probe = "/zz-<b>probe</b>-1840775123456"
    missing = crashing_client.get(probe)
    assert missing.status_code == 404
    assert "Page introuvable" in missing.text
    assert "probe" not in missing.text
    assert "1840775123456" not in missing.text
    crash = crashing_client.get("/test-boom")
    assert crash.status_code == 500
    assert "Erreur du service" in crash.text
    for leak in ("secret", "RuntimeError", "Traceback", "/home/carnet", "1840775123456"):
        assert leak not in crash.text
    bad = crashing_client.get("/test-int?n=<i>1840775123456</i>")
    assert bad.status_code == 400
    assert "1840775123456" not in bad.text
    wrong_method = crashing_client.put("/accessibilite")
    assert wrong_method.status_code in {403, 405}  # unsafe: refused without a token first
    not_allowed = crashing_client.get("/oauth2/token")
    assert not_allowed.status_code == 405
    assert "Action impossible" in not_allowed.text
    assert "POST" in not_allowed.headers["allow"]


def test_static_files_are_versioned_and_cached_for_a_year(client: TestClient) -> None:
    html = client.get("/").text
    css = re.search(r'href="(/static/dsfr/[^"]+/dsfr\.min\.css)"', html).group(1)
    own = re.search(r'href="(/static/carnet/[0-9a-f]{12}/carnet\.css)"', html).group(1)
    for url in (css, own):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-type"].startswith("text/css")
    assert client.get(css.replace("/static/dsfr/", "/static/dsfr/0.0.0-")).status_code == 404
    version = own.split("/")[3]
    assert client.get(f"/static/carnet/{version}/../config.py").status_code == 404
    assert client.get(f"/static/carnet/{version}/%2e%2e/config.py").status_code == 404


def test_the_neutral_brand_serves_no_state_font_or_logo(client: TestClient) -> None:
    html = client.get("/").text
    assert "fr-logo" not in html
    assert "République" not in html
    assert "neutral.css" in html
    dsfr = re.search(r"/static/dsfr/([^/]+)/", html).group(1)
    assert client.get(f"/static/dsfr/{dsfr}/fonts/Marianne-Regular.woff2").status_code == 404
    assert client.get(f"/static/dsfr/{dsfr}/favicon/favicon.svg").status_code == 404
    assert client.get(f"/static/dsfr/{dsfr}/dsfr.module.min.js").status_code == 200
    assert client.get(f"/static/dsfr/{dsfr}/package.json").status_code == 404


def test_the_state_brand(settings: Settings) -> None:
    runtime = build_runtime(
        settings.model_copy(
            update={"portal": PortalSettings(brand="etat", service_name="Mon carnet")}
        ),
        configure_logs=False,
    )
    try:
        with TestClient(create_app(runtime)) as client:
            html = client.get("/").text
            assert '<p class="fr-logo">République<br>Française</p>' in html
            assert "neutral.css" not in html
            assert "Mon carnet" in html
            dsfr = re.search(r"/static/dsfr/([^/]+)/", html).group(1)
            font = client.get(f"/static/dsfr/{dsfr}/fonts/Marianne-Regular.woff2")
            assert font.status_code == 200
            assert font.headers["content-type"] == "font/woff2"
    finally:
        runtime.close()
