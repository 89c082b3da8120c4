"""GraphiQL with no network: the page at /graphql and the files it loads, served by the gateway.

Strawberry's own page loads React, GraphiQL and its explorer plugin from a public CDN; offline it
never leaves "Loading...". Here the same files, at the same pinned versions, are vendored under
`gateway/static/graphiql/` (see the README there: sources, licences, how to update) and served
at `/_graphiql/...`, only while GraphiQL is on. The page names each file with its Subresource
Integrity hash, pinned below, so a file whose bytes changed is refused by the browser; and it
comes with a Content-Security-Policy that allows no script or style but those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = [
    "ASSETS",
    "CONTENT_SECURITY_POLICY",
    "PAGE_HEADERS",
    "SCROLL_LOCK_STYLE_HASH",
    "STATIC_DIR",
    "URL_PREFIX",
    "Asset",
    "graphiql_page",
    "graphiql_routes",
]

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
#: Where the files are served. The page refers to them relative to itself (`_graphiql/...`), so
#: behind a proxy that adds a path prefix they are still found beside /graphql.
URL_PREFIX = "/_graphiql"


@dataclass(frozen=True)
class Asset:
    #: Under STATIC_DIR, and under URL_PREFIX.
    path: str
    #: The Subresource Integrity hash of the file's bytes (tests/gateway/test_graphiql.py checks).
    integrity: str
    #: A third-party file in a folder named by its version: cached for a year, since a new
    #: version comes in a new folder. The gateway's own files are revalidated each time.
    versioned: bool = True

    @property
    def kind(self) -> str:
        return "style" if self.path.endswith(".css") else "script"


#: In the order the page loads them: each script needs the globals of those before it.
#: The third-party hashes are those Strawberry's template pins for the same files.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "graphiql-3.8.3/graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "plugin-explorer-1.0.2/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Asset(
        "page.css",
        "sha384-uNP8tI8GO8S4VyaxRINn3r/5krEabqGaEdBjZFSpExPxX/8qy1WSqNKS7mH6D/+6",
        versioned=False,
    ),
    Asset(
        "react-18.2.0/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom-18.2.0/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql-3.8.3/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "plugin-explorer-1.0.2/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
    Asset(
        "page.js",
        "sha384-gWf4ev49PJk+tn/Eqz3I2AH2vrjpRxd8bTWAyklq4iCXZOD6gdH4ZjcTVaK2a66v",
        versioned=False,
    ),
)
_BY_PATH = {asset.path: asset for asset in ASSETS}

#: The sha256 of the <style> react-remove-scroll-bar (in graphiql.min.js) adds while a dialog or
#: menu is open: `.with-scroll-bars-hidden { overflow: hidden !important; padding-right: 0px
#: !important; } body { overflow: hidden !important; ...` with every gap 0px.
SCROLL_LOCK_STYLE_HASH = "sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc="

#: Sent with the page. Nothing but the gateway's own files runs or styles it, and it talks to
#: nothing but the gateway:
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # The files above only: no inline script, no eval (GraphiQL 3 needs neither).
        "script-src 'self'",
        # The stylesheets above, and the one <style> GraphiQL writes: the scroll lock of its
        # dialogs and menus (react-remove-scroll-bar), whose text depends only on the body's
        # margins and the page's scrollbar, both fixed by page.css; so it is allowed by its
        # hash, not by 'unsafe-inline' (the browser test opens a dialog). GraphiQL and
        # CodeMirror position elements through the CSSOM (element.style), which CSP does not
        # govern.
        f"style-src 'self' '{SCROLL_LOCK_STYLE_HASH}'",
        # graphiql.min.css embeds its fonts (Roboto, Fira Code) as data: URLs.
        "font-src 'self' data:",
        # The tab's icon is a data: SVG; GraphiQL's own icons are inline <svg> elements.
        "img-src 'self' data:",
        # POST /graphql, and the graphql-transport-ws WebSocket GraphiQL opens for a
        # subscription ('self' matches ws: and wss: on the same host and port).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The page's URL holds the query being edited (?q=...): a link followed from the docs
    # pane must not carry it away.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_YEAR = 365 * 24 * 3600

#: Strawberry's tab icon, a strawberry, as a data: URL (no request for /favicon.ico).
_ICON = "data:image/svg+xml," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<text y=".9em" font-size="80">\N{STRAWBERRY}</text></svg>',
    safe=" /:=.",
)

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>invoice-gateway GraphiQL</title>
    <link rel="icon" href="{icon}" />
{styles}
  </head>
  <body>
    <div id="graphiql" class="graphiql-container">Loading...</div>
{scripts}
  </body>
</html>
"""


@cache
def graphiql_page() -> str:
    """The GraphiQL page's HTML (send it with PAGE_HEADERS)."""
    styles: list[str] = []
    scripts: list[str] = []
    for asset in ASSETS:
        url = f"{URL_PREFIX.lstrip('/')}/{asset.path}"
        if asset.kind == "style":
            styles.append(
                f'    <link rel="stylesheet" href="{url}" integrity="{asset.integrity}" />'
            )
        else:
            scripts.append(f'    <script src="{url}" integrity="{asset.integrity}"></script>')
    return _PAGE.format(icon=_ICON, styles="\n".join(styles), scripts="\n".join(scripts))


async def _serve_asset(request: Request) -> Response:
    asset = _BY_PATH.get(request.path_params["path"])
    if asset is None:  # only the listed files: not the READMEs, licences or update script
        return PlainTextResponse("Not Found", status_code=404)
    cache_control = f"public, max-age={_YEAR}, immutable" if asset.versioned else "no-cache"
    return FileResponse(
        STATIC_DIR / asset.path,
        media_type=_MEDIA_TYPES[Path(asset.path).suffix],
        headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
    )


def graphiql_routes() -> list[BaseRoute]:
    """The routes of GraphiQL's files; the page itself is Strawberry's GET /graphql."""
    return [Route(f"{URL_PREFIX}/{{path:path}}", _serve_asset, methods=["GET", "HEAD"])]
