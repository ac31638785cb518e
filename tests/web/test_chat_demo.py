"""The demo facility page and the widget's files: one script tag, nothing inline, nothing off
site, a strict policy, and a widget that never writes HTML or keeps the chat in storage."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from admissions.facility import tel_link
from admissions.web.main import init_app
from admissions.web.settings import Settings

WIDGET = Path(__file__).resolve().parents[2] / "admissions" / "web" / "static" / "widget"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


async def test_demo_page_embeds_the_widget_with_one_tag(client: Any) -> None:
    response = await client.get("/")
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self'" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    html = await response.text()
    page = Tags()
    page.feed(html)
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [
        {
            "src": "/widget/widget.js",
            "defer": None,
            "data-facility": "Harbor Light Recovery Center",
            "data-phone": "833-820-2922",
            "data-tel": tel_link("833-820-2922"),  # the server builds the widget's call link
            "data-accent": "#1f5f5b",
        }
    ]
    assert page.script_text.strip() == ""  # no inline script
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)  # no inline handlers
        assert "style" not in attrs, (tag, attrs)
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            assert not re.match(r"(https?:)?//", value), f"off-site {name} on <{tag}>: {value}"
    assert 'href="tel:+18338202922"' in html and 'href="tel:988"' in html
    for program in ("Partial Hospitalization (PHP)", "Intensive Outpatient (IOP)", "Residential"):
        assert program in html
    assert "Mon–Fri: 8 AM–8 PM" in html and "Sun: closed" in html


async def test_widget_files_are_served_from_our_origin(client: Any) -> None:
    for path, kind in (
        ("/widget/widget.js", "javascript"),
        ("/widget/widget.css", "css"),
        ("/widget/demo/demo.css", "css"),
        ("/widget/demo/icon.svg", "svg"),
    ):
        response = await client.get(path)
        assert response.status == 200, path
        assert kind in response.content_type
    assert (await client.get("/widget/../chat_proxy.py")).status in (403, 404)


def test_widget_never_writes_html_or_keeps_the_chat_in_storage() -> None:
    # the SVG namespace is a name, not an address the browser fetches
    source = (WIDGET / "widget.js").read_text().replace('"http://www.w3.org/2000/svg"', "")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "setItem(",
        "indexedDB",
        "document.cookie",
        "http://",
        "https://",
    ):
        assert forbidden not in source, forbidden
    assert ".textContent" in source
    # one builder of tel: links (admissions.facility.tel_link): the widget takes its link from
    # data-tel and builds none from the number
    assert "data.tel" in source and "replace(/\\D/g" not in source
    for sheet in ("widget.css", "demo/demo.css"):
        css = (WIDGET / sheet).read_text()
        assert "@import" not in css and "url(" not in css, sheet
        assert "system-ui" in css


@pytest.mark.parametrize("value", ["off", "false", "0"])
async def test_the_demo_page_can_be_switched_off(
    aiohttp_client: Any,
    settings: Settings,
    tracker: Any,
    app_db: Any,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("DEMO_PAGE", value)
    client = await aiohttp_client(init_app(settings))
    root = await client.get("/", allow_redirects=False)
    assert root.status == 302 and root.headers["Location"] == "/staff/"
    assert (await client.get("/widget/widget.js")).status == 200
    assert await (await client.get("/chat/history")).json() == {"active": False}
