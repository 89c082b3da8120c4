"""The README and the pages under docs/ say what the code does: each page is checked against the
code it describes, so a page that drifts fails here.

- docs/configuration.md: a row, with its default, for every variable of every settings class;
- every relative link of the README and docs/*.md reaches a file, and its anchor a heading;
- every `invoice-gateway` command the pages show has that subcommand and those flags;
- docs/sandboxes.md: each sandbox's control routes, fault fields (and defaults) and data;
- docs/providers.md: every capability, and each provider's yes and no, as it says itself;
- the README: the test command CI runs, and the first query with the answer it gets.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import re
import shlex
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal, InvalidOperation
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app, providers_from_environment
from gateway.cli import _parser
from gateway.settings import GatewaySettings
from gateway.wiring import load_sandbox
from providers.registry import settings_classes
from providers.settings import EnvironSettings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SANDBOX_ENTRY_POINTS = "invoice_gateway.sandboxes"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """`text` without its fenced blocks and inline code, where a link is not a link."""
    text = FENCE.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    for line in FENCE.sub("", text).splitlines():
        heading = re.match(r"#{1,6} +(.+?) *#*$", line)
        if heading:
            base = slug(heading.group(1))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def section(text: str, heading: str) -> str:
    """The text under `## heading` (or any level), up to the next heading of that level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\n(.*?)(?=^\1 |\Z)", text, re.M | re.S)
    assert match, f"no heading {heading!r}"
    return match.group(2)


def table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table in `text`, header first, separator left out."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                rows.append(cells)
        elif rows:
            break
    assert rows, "no table"
    return rows


def code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# -- configuration.md ----------------------------------------------------------------------------


def settings_to_document() -> list[type[EnvironSettings]]:
    return [GatewaySettings, *settings_classes().values()]


def documented_defaults() -> dict[str, str]:
    """Variable -> the text of its Default cell (one cell may name several variables)."""
    rows = table(section(read(DOCS / "configuration.md"), "Variables"))
    assert rows[0][:2] == ["Variable", "Default"]
    found: dict[str, str] = {}
    for cells in rows[1:]:
        names = code_names(cells[0])
        defaults = [d.strip() for d in cells[1].split(",")] if len(names) > 1 else [cells[1]]
        assert len(defaults) == len(names), f"one default per variable in the row of {names}"
        for name, default in zip(names, defaults, strict=True):
            assert name not in found, f"{name} has two rows"
            found[name] = default
    return found


def same_value(documented: str, default: str) -> bool:
    if documented == default:
        return True
    try:
        return Decimal(documented) == Decimal(default)
    except InvalidOperation:
        return False


def test_every_variable_has_a_row_with_its_default() -> None:
    rows = documented_defaults()
    variables = [v for s in settings_to_document() for v in s.variables()]
    missing = [name for name, _, _ in variables if name not in rows]
    assert not missing, f"document these in docs/configuration.md's table: {missing}"
    wrong = []
    for name, default, _ in variables:
        literal = re.fullmatch(r"`([^`]*)`", rows[name])
        if default == "unset":  # no value: the page says in words what happens
            if literal:
                wrong.append(f"{name}: the page says {rows[name]}, the code has no default")
        elif not (literal and same_value(literal.group(1), default)):
            wrong.append(f"{name}: the page says {rows[name]}, the code `{default}`")
    assert not wrong, wrong
    # No row for a variable nothing reads.
    known = {name for name, _, _ in variables}
    assert not set(rows) - known, f"rows for variables nothing reads: {set(rows) - known}"


def test_every_settings_class_is_checked() -> None:
    prefixes = {s.model_config.get("env_prefix") for s in settings_to_document()}
    assert {"GATEWAY_", "FLEXPRICE_", "XENDIT_"} <= prefixes


# -- links ---------------------------------------------------------------------------------------


def links() -> Iterator[tuple[Path, str]]:
    for page in PAGES:
        for target in LINK.findall(prose(read(page))):
            if not re.match(r"[a-z][a-z+.-]*:", target):  # http:, https:, mailto:
                yield page, target


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_a_heading(page: Path) -> None:
    broken = []
    for source, target in links():
        if source != page:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(ROOT) or not file.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and file.suffix == ".md" and anchor not in anchors(read(file)):
            broken.append(f"{target}: {file.name} has no heading #{anchor}")
    assert not broken, broken


def test_the_pages_are_linked_from_the_readme() -> None:
    readme = read(ROOT / "README.md")
    unlinked = [p.name for p in DOCS.glob("*.md") if p.name != "README.md"]
    unlinked = [name for name in unlinked if f"(docs/{name})" not in readme]
    assert not unlinked, f"link these from README.md: {unlinked}"


# -- commands ------------------------------------------------------------------------------------


def shown_commands() -> Iterator[tuple[Path, list[str]]]:
    """Each command line of a page's sh blocks and inline code, as words, its
    environment assignments dropped."""
    for page in PAGES:
        text = read(page)
        lines: list[str] = []
        for language, body in FENCE.findall(text):
            if language in ("sh", "bash", "console", ""):
                lines += body.replace("\\\n", " ").splitlines()
        lines += re.findall(r"`((?:\w+=\S+ )*invoice-gateway [^`]+)`", prose_code(text))
        for line in lines:
            for command in re.split(r"&&|\|\||;|\|", line.split(" #", 1)[0]):
                try:
                    words = shlex.split(command)
                except ValueError:
                    continue
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    words = words[1:]
                if words:
                    yield page, words


def prose_code(text: str) -> str:
    """`text` without fenced blocks (inline code kept)."""
    return FENCE.sub("", text)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("invoice-gateway has no subcommands")


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


#: Names a page may show for a sandbox that is not installed: adding-a-provider.md's example.
EXAMPLE_SANDBOXES = {"adding-a-provider.md": {"acme"}}


def problems_of(words: list[str], page: Path) -> list[str]:
    words = [w.strip("[]") for w in words]
    commands = subcommands()
    if words[1] in option_strings(_parser()):
        return []
    if words[1] not in commands:
        return [f"no subcommand {words[1]!r} (there are {', '.join(commands)})"]
    flags = option_strings(commands[words[1]])
    used = [w for w in words[2:] if w.startswith("-")]
    found = [f"{words[1]} has no flag {w}" for w in used if w.split("=", 1)[0] not in flags]
    if words[1] == "sandbox" and len(words) > 2 and not words[2].startswith("-"):
        names = {ep.name for ep in entry_points(group=SANDBOX_ENTRY_POINTS)}
        names |= {"NAME"} | EXAMPLE_SANDBOXES.get(page.name, set())
        if words[2] not in names:
            found.append(f"no sandbox named {words[2]!r} (there are {', '.join(sorted(names))})")
    return found


def test_every_command_shown_exists() -> None:
    checked = scripts = 0
    wrong = []
    for page, words in shown_commands():
        where = page.relative_to(ROOT)
        if words[0] == "invoice-gateway" and len(words) > 1:
            checked += 1
            wrong += [f"{where}: {' '.join(words)}: {p}" for p in problems_of(words, page)]
        elif words[:2] == ["python", "-m"] and len(words) > 2:
            scripts += 1
            if importlib.util.find_spec(words[2]) is None:
                wrong.append(f"{where}: no module {words[2]}")
        elif words[0] == "python" and len(words) > 1:
            scripts += 1
            if not (ROOT / words[1]).is_file():
                wrong.append(f"{where}: no file {words[1]}")
    assert checked >= 10, "the pages show fewer invoice-gateway commands than they did"
    assert scripts >= 2, "the fault run and the benchmark are no longer shown"
    assert not wrong, wrong


# -- sandboxes.md --------------------------------------------------------------------------------

SANDBOXES = read(DOCS / "sandboxes.md")


def sandbox_names() -> list[str]:
    names = sorted(ep.name for ep in entry_points(group=SANDBOX_ENTRY_POINTS))
    assert names, "no sandbox is installed"
    return names


def sandbox_app(name: str) -> Any:
    sandbox = load_sandbox(name)  # what the entry point names (gateway.wiring)
    assert sandbox is not None, name
    return sandbox.app(api_key="sk_docs_test_key", seed=0, latency_ms=0)


async def control_call(app: Any, method: str, path: str) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.request(method, path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.mark.parametrize("name", sandbox_names())
def test_the_control_routes_are_each_sandboxs(name: str) -> None:
    rows = table(section(SANDBOXES, "Control routes"))
    assert rows[0][:2] == ["Route", "Sandbox"]
    documented = {code_names(cells[0])[0] for cells in rows[1:] if cells[1] in ("both", name)}
    routes = {
        f"{method} {route.path}"
        for route in sandbox_app(name).routes
        if route.path.startswith("/_sandbox")
        for method in (route.methods or ()) - {"HEAD"}
    }
    assert documented == routes, (
        f"the {name} sandbox has, undocumented: {routes - documented}; "
        f"documented, but not there: {documented - routes}"
    )


@pytest.mark.parametrize("name", sandbox_names())
async def test_the_fault_fields_and_defaults_are_each_sandboxs(name: str) -> None:
    rows = table(section(SANDBOXES, "The fault API"))
    assert rows[0][:2] == ["Field", "Default"]
    documented = {
        code_names(cells[0])[0]: json.loads(code_names(cells[1])[0]) for cells in rows[1:]
    }
    # What a sandbox answers when nothing is injected: every field, with its default.
    actual = await control_call(sandbox_app(name), "GET", "/_sandbox/faults")
    assert documented == actual


@pytest.mark.parametrize("name", sandbox_names())
async def test_the_data_counts_are_each_sandboxs(name: str) -> None:
    rows = table(section(SANDBOXES, "The data"))
    column = [cell.lower() for cell in rows[0]].index(name)
    summary = await control_call(sandbox_app(name), "POST", "/_sandbox/reset")
    for cells in rows[1:]:
        if cells[0] in ("customers", "invoices"):
            assert int(code_names(cells[column])[0]) == summary[cells[0]], cells[0]


# -- providers.md and the README's first query: asked of the gateway `serve` runs ---------------


@pytest.fixture
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    """The gateway `invoice-gateway serve` builds with no credentials, its providers closed
    after the test as its lifespan would."""
    settings = GatewaySettings.from_environ({})
    providers = providers_from_environment(settings, {})
    app = create_app(settings=settings, providers=providers)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client
    finally:
        await asyncio.gather(*(wired.provider.aclose() for wired in providers.values()))


async def ask(gateway: httpx.AsyncClient, query: str) -> dict[str, Any]:
    body: dict[str, Any] = (await gateway.post("/graphql", json={"query": query})).json()
    assert "errors" not in body, body
    return body


async def test_the_capabilities_are_each_providers(gateway: httpx.AsyncClient) -> None:
    data = (
        await ask(
            gateway,
            '{ providers { name capabilities } __type(name: "Capability") { enumValues { name } } '
            "__schema { types { name fields { name } } } }",
        )
    )["data"]
    rows = table(section(read(DOCS / "providers.md"), "What differs by provider"))
    header = [cell.lower() for cell in rows[0]]
    assert header[:2] == ["capability", "graphql"]
    every = {value["name"] for value in data["__type"]["enumValues"]}
    documented = [code_names(cells[0])[0] for cells in rows[1:]]
    assert sorted(documented) == sorted(every), "one row per capability"
    fields = {t["name"]: {f["name"] for f in t["fields"] or ()} for t in data["__schema"]["types"]}
    roots = fields["Query"] | fields["Mutation"]
    for cells in rows[1:]:
        for shown in code_names(cells[1]):
            owner, _, field = shown.rpartition(".")
            assert field in (fields[owner] if owner else roots), f"no field {shown}"
    for provider in data["providers"]:
        column = header.index(provider["name"])
        for cells in rows[1:]:
            capability, said = code_names(cells[0])[0], cells[column].lower()
            supported = capability in provider["capabilities"]
            assert said.startswith("yes" if supported else "no"), (
                f"{provider['name']} {capability}: the page says {cells[column]!r}"
            )


def shape(value: Any) -> Any:
    """Keys, list lengths and types: what a user's answer shares with the README's."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


README = read(ROOT / "README.md")


async def test_the_readme_first_query_gets_the_answer_it_shows(
    gateway: httpx.AsyncClient,
) -> None:
    first = section(README, "A first query")
    query = first.split("```graphql\n", 1)[1].split("```", 1)[0]
    shown = json.loads(first.split("```json\n", 1)[1].split("```", 1)[0])
    answer = await ask(gateway, query)
    assert shape(answer) == shape(shown)
    assert answer["data"]["providers"] == shown["data"]["providers"]
    assert answer["extensions"] == shown["extensions"]
    assert {e["node"]["status"] for e in answer["data"]["invoices"]["edges"]} == {"OPEN"}


def test_the_readme_starts_with_the_two_commands_and_the_first_query() -> None:
    lines = README.splitlines()
    assert "pip install -e . && invoice-gateway serve" in lines[:20]
    assert lines.index("query FirstInvoices {") < 30


def test_the_readme_shows_the_test_command_ci_runs() -> None:
    ci = read(ROOT / ".ci" / "run")
    assert "pip install --quiet -e '.[test]' && pytest" in ci
    assert "```sh\npip install -e '.[test]' && pytest\n```" in README
