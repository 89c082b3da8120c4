"""The GraphiQL page needs nothing but the gateway: it names only the gateway's own files, each
with the Subresource Integrity hash of the bytes served, and comes with a strict
Content-Security-Policy. Its files are served only while GraphiQL is on.
tests/gateway/test_graphiql_browser.py runs the page in a real browser."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.graphiql import ASSETS, CONTENT_SECURITY_POLICY, STATIC_DIR, URL_PREFIX
from gateway.settings import GatewaySettings
from gateway.wiring import on_sandbox

BASE = "http://gateway.test"
PAGE = f"{BASE}/graphql"
HTML = {"accept": "text/html"}
KEY = "reader-key-0123456789abcdef"


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, and the text of its <script>s."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    return tags


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


async def client_of(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
    wired = on_sandbox("flexprice")
    app = create_app(settings=GatewaySettings(**settings), providers={"flexprice": wired})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client
    await wired.provider.aclose()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """GraphiQL on: every provider is a sandbox."""
    async for made in client_of():
        yield made


async def test_the_page_names_only_the_gateways_own_files_each_with_its_hash(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    tags = parse(page.text)
    assert tags.inline_scripts == []  # the CSP would block them
    assert not [tag for tag, _ in tags.tags if tag in ("style", "iframe", "object", "base")]
    assert not [attrs for _, attrs in tags.tags if "style" in attrs]
    fetched = []
    for tag, attrs in tags.tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is None:
                continue
            url = urljoin(PAGE, value)
            if urlsplit(url).scheme == "data":  # the tab's icon: nothing is fetched
                assert tag == "link"
                assert attrs.get("rel") == "icon"
                continue
            assert urlsplit(url).netloc == "gateway.test", f"<{tag} {name}={value!r}>"
            assert urlsplit(url).scheme == "http"
            if tag in ("script", "link"):
                fetched.append((tag, url, attrs.get("integrity")))
    scripts = [url for tag, url, _ in fetched if tag == "script"]
    styles = [url for tag, url, _ in fetched if tag == "link"]
    # React first, GraphiQL, its plugin, then the page's own script that uses them all.
    assert [urlsplit(url).path.rsplit("/", 1)[1] for url in scripts] == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "index.umd.js",
        "page.js",
    ]
    assert len(styles) == 3
    for _, url, integrity in fetched:
        assert integrity, f"{url} has no integrity attribute"
        served = await client.get(url)
        assert served.status_code == 200, url
        assert sri(served.content) == integrity, f"{url}: the page pins {integrity}"
        assert urlsplit(url).path.startswith(f"{URL_PREFIX}/")


def test_each_pinned_hash_is_the_files_and_is_recorded_in_the_readme_beside_them() -> None:
    readme = (STATIC_DIR / "README.md").read_text(encoding="utf-8")
    for asset in ASSETS:
        actual = sri((STATIC_DIR / asset.path).read_bytes())
        assert actual == asset.integrity, (
            f"{asset.path} is {actual}: put that in ASSETS (gateway/graphiql.py)"
        )
        if asset.versioned:
            assert f"`{asset.path}`" in readme
            assert asset.integrity in readme, f"the README beside it lacks {asset.path}'s hash"
            assert (STATIC_DIR / asset.path).parent.joinpath("LICENSE").is_file()


async def test_the_page_comes_with_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers=HTML)
    policy = page.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["style-src"][0] == "'self'"
    # Beyond 'self', only hashes: no 'unsafe-inline', no 'unsafe-eval', no host.
    assert all(value.startswith("'sha256-") for value in directives["style-src"][1:])
    assert "unsafe" not in policy
    assert "http" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_files_are_cached_by_version_and_nothing_else_is_served(
    client: httpx.AsyncClient,
) -> None:
    react = await client.get(f"{URL_PREFIX}/react-18.2.0/react.production.min.js")
    assert react.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert react.headers["content-type"] == "text/javascript; charset=utf-8"
    assert react.headers["x-content-type-options"] == "nosniff"
    css = await client.get(f"{URL_PREFIX}/graphiql-3.8.3/graphiql.min.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    own = await client.get(f"{URL_PREFIX}/page.js")
    assert own.headers["cache-control"] == "no-cache"
    assert "etag" in own.headers  # revalidated cheaply
    head = await client.head(f"{URL_PREFIX}/page.css")
    assert head.status_code == 200
    assert head.content == b""
    for path in (
        "README.md",
        "update.sh",
        "react-18.2.0/LICENSE",
        "react-18.2.0/",
        "",
        "../graphiql.py",
        "%2e%2e/graphiql.py",
        "react-18.2.0/../../graphiql.py",
        "nope.js",
    ):
        response = await client.get(f"{URL_PREFIX}/{path}")
        assert response.status_code == 404, path
    assert (await client.post(f"{URL_PREFIX}/page.js")).status_code == 405


async def test_with_api_keys_the_page_and_its_files_need_a_key_too() -> None:
    # Deny by default: with keys configured, nothing but /healthz and /readyz is anonymous.
    async for client in client_of(graphiql=True, api_keys=f"ci:read:{KEY}"):
        assert (await client.get("/graphql", headers=HTML)).status_code == 401
        assert (await client.get(f"{URL_PREFIX}/page.js")).status_code == 401
        keyed = {"authorization": f"Bearer {KEY}"}
        page = await client.get("/graphql", headers={**HTML, **keyed})
        assert page.status_code == 200
        assert "content-security-policy" in page.headers
        assert (await client.get(f"{URL_PREFIX}/page.js", headers=keyed)).status_code == 200
        refused = await client.post("/graphql", json={"query": "{ providers { name } }"})
        assert refused.status_code == 401


async def test_with_graphiql_off_neither_the_page_nor_its_files_are_served() -> None:
    async for client in client_of(graphiql=False):
        page = await client.get("/graphql", headers=HTML)
        assert "graphiql" not in page.text.lower()
        assert "content-security-policy" not in page.headers
        for asset in ASSETS:
            assert (await client.get(f"{URL_PREFIX}/{asset.path}")).status_code == 404
