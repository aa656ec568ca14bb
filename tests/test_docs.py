"""/docs: the interactive API reference works with no internet access. The page names only
files the service itself serves (no CDN, no absolute URL), each of them is served with its
type, the document it shows is /schema/openapi.json, and nothing else of the Swagger UI
distribution can be fetched through it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import requests

from service.docs_page import asset_names
from service.openapi import openapi_dict


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def test_the_docs_page_loads_only_what_the_service_serves(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded")
    page = requests.get(server.url + "/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    links = _Links()
    links.feed(page.text)
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, no other host
    assert sorted(u.rsplit("/", 1)[1] for u in links.urls) == sorted(asset_names())
    kinds = {
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "png": "image/png",
    }
    for url in links.urls:
        assert url.startswith("/docs/assets/")
        r = requests.get(server.url + url, timeout=10)
        assert r.status_code == 200, url
        assert r.headers["content-type"] == kinds[url.rsplit(".", 1)[1]]  # one charset
        assert "max-age" in r.headers["cache-control"]
        if url.endswith("swagger-ui-bundle.js"):
            assert b"SwaggerUIBundle" in r.content and len(r.content) > 500_000
        if url.endswith(".css"):
            assert b".swagger-ui" in r.content and b"url(http" not in r.content
    # the page shows the service's own document, and asks no outside validator
    (script,) = links.scripts
    (spec_url,) = re.findall(r'url: "([^"]+)"', script)
    assert "validatorUrl: null" in script
    doc = requests.get(server.url + spec_url, timeout=10)
    assert doc.status_code == 200 and doc.json() == openapi_dict()


def test_nothing_else_is_served_through_the_assets_route(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server("embedded")
    for name in ("index.html", "swagger-editor-bundle.js", "..%2F__init__.py", "LICENSE"):
        r = requests.get(server.url + "/docs/assets/" + name, timeout=10)
        assert r.status_code == 404, name
        assert set(r.json()) == {"detail"}  # the contract's error body
