"""The product's modules stay small and import one another one way.

A module over about 300 lines is a sign that it does more than one thing; an import cycle means
two modules cannot be read, tested or changed one without the other. The size rule covers the
product, `gateway/` and `providers/`; the sandboxes (the top-level `sandboxes/` package) are test
doubles of the providers' servers and are left out of it. The cycle rule covers the sandboxes
too: their store and seed once imported each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("gateway", "providers")
#: What the cycle rule reads: the product and the sandboxes.
CYCLE_CHECKED = (*PRODUCT, "sandboxes")
MAX_LINES = 300

#: Modules still over MAX_LINES, each with the reason it is not split yet. Remove a line when
#: its module is split; the test fails on a line whose module is small again.
OVER_SIZE = {
    # Invoice and Customer build each other at run time (Invoice.customer, and the connection of
    # Customer.invoices): apart, they would import each other. What is not a field of the two
    # node types is out already (filters, connections, customer_reads).
    "gateway/schema/nodes.py": "the node types build each other: one module, or a cycle",
}

#: Import cycles still in the product or the sandboxes, each with its reason. Empty: none is
#: allowed.
CYCLES: dict[frozenset[str], str] = {}

#: Cycles closed only by an import inside a function (which runs later, so Python accepts it,
#: but the two modules still need each other), each with its reason. Empty: none is allowed
#: (a sandbox's store is handed its seed's `populate`, it never imports its seed).
DEFERRED_CYCLES: dict[frozenset[str], str] = {}


def _sized_modules() -> Iterator[Path]:
    # The sandboxes are not under PRODUCT (and none may be: tests/test_layout.py).
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


def over_size() -> dict[str, int]:
    """Every product module over MAX_LINES, with its number of lines."""
    found = {}
    for path in _sized_modules():
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_no_module_grows_over_the_limit() -> None:
    found = over_size()
    unexpected = {name: lines for name, lines in found.items() if name not in OVER_SIZE}
    assert not unexpected, f"over {MAX_LINES} lines, split by responsibility: {unexpected}"


def test_the_allow_list_names_only_modules_still_over_the_limit() -> None:
    # A module that moved away (the sandboxes' move, a split) is not stale, only one still here.
    still_here = {name for name in OVER_SIZE if (ROOT / name).is_file()}
    stale = sorted(still_here - set(over_size()))
    assert not stale, f"small again: remove from OVER_SIZE: {stale}"


# Import cycles --------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: its top level, and the branches of a
    top-level `if` or `try`, except `if TYPE_CHECKING:`. Imports in functions run later."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body)


def _all_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import but those under `if TYPE_CHECKING:`, in functions and classes too."""
    for statement in body:
        if isinstance(statement, ast.If) and _is_type_checking(statement.test):
            yield from _all_imports(statement.orelse)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield node


def imports_of(
    name: str, source: str, is_package: bool, modules: set[str], *, deferred: bool = False
) -> set[str]:
    """The modules among `modules` that module `name` imports at its top level (and, with
    `deferred`, in its functions too). `from a import b` names `a.b` when that is a module,
    else `a`."""
    found = set()
    body = ast.parse(source).body
    for node in _all_imports(body) if deferred else _module_level_imports(body):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found.update(target for target in targets if target in modules and target != name)
    return found


def import_graph(
    sources: dict[str, tuple[str, bool]], *, deferred: bool = False
) -> dict[str, set[str]]:
    """name -> (source, is_package) in, name -> the names it imports out."""
    modules = set(sources)
    return {
        name: imports_of(name, source, is_package, modules, deferred=deferred)
        for name, (source, is_package) in sources.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without
    recursion): each is a set of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def product_sources() -> dict[str, tuple[str, bool]]:
    """name -> (source, is_package) of every module the cycle rule reads (`CYCLE_CHECKED`)."""
    return {
        _module_name(path): (path.read_text(), path.name == "__init__.py")
        for package in CYCLE_CHECKED
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_the_cycle_rule_reads_the_sandboxes_too() -> None:
    sources = product_sources()
    for name in ("sandboxes.flexprice.store", "sandboxes.flexprice.seed", "sandboxes.xendit.store"):
        assert name in sources, name
    graph = import_graph(sources, deferred=True)
    # The walk sees a sandbox's own (relative) imports, not only the product's.
    assert "sandboxes.flexprice.store" in graph["sandboxes.flexprice.app"]


def test_the_cycle_allow_lists_name_only_modules_that_exist() -> None:
    # An entry for modules that moved away would excuse nothing and hide that it is stale.
    modules = set(product_sources())
    stale = [sorted(cycle) for cycle in (*CYCLES, *DEFERRED_CYCLES) if not cycle <= modules]
    assert not stale, f"remove these cycles, their modules are gone: {stale}"


def test_the_cycle_rule_sees_what_runs_at_import_time() -> None:
    sources = {
        "pkg": ("", True),
        "pkg.a": ("from pkg.b import thing\n", False),
        "pkg.b": ("from . import c\n", False),
        "pkg.c": ("import pkg.a\n", False),
        "pkg.d": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.e import E\n"
            "def later():\n    from pkg.e import run\n",
            False,
        ),
        "pkg.e": ("from pkg import d\n", False),
    }
    graph = import_graph(sources)
    assert graph["pkg.b"] == {"pkg.c"}
    assert graph["pkg.d"] == set()  # TYPE_CHECKING and function-level imports do not count
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b", "pkg.c"})]
    deferred = import_graph(sources, deferred=True)
    assert deferred["pkg.d"] == {"pkg.e"}  # the function's import; TYPE_CHECKING still not
    assert sorted(map(sorted, cycles(deferred))) == [
        ["pkg.a", "pkg.b", "pkg.c"],
        ["pkg.d", "pkg.e"],
    ]


def test_no_import_cycle_among_the_product_and_sandbox_modules() -> None:
    found = [cycle for cycle in cycles(import_graph(product_sources())) if cycle not in CYCLES]
    assert not found, [sorted(cycle) for cycle in found]


def test_no_cycle_is_hidden_in_an_import_inside_a_function() -> None:
    graph = import_graph(product_sources(), deferred=True)
    found = [cycle for cycle in cycles(graph) if cycle not in CYCLES | DEFERRED_CYCLES]
    assert not found, [sorted(cycle) for cycle in found]
