"""The layout the architecture promises: the product's provider packages hold no simulator and
never reach for one, and the provider protocol knows nothing of sandboxes or of Starlette.

Imports are read from each module's syntax tree, so a lazy import inside a function counts as
much as one at the top (the old adapters imported their sandbox lazily, three times each).
"""

from __future__ import annotations

import ast
from pathlib import Path

from providers.base import InvoiceProvider, ProviderBase

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ROOT / "providers"


def _modules() -> list[Path]:
    found = sorted(PROVIDERS.rglob("*.py"))
    assert len(found) > 20, found  # the walk found the package, not an empty folder
    return found


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved against its package."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    return _imports_of(path.read_text(encoding="utf-8"), package)


def _imports_of(source: str, package: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            names.add(module)
            # `from providers.flexprice import sandbox` imports a module too.
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _is_simulator(name: str) -> bool:
    return any(part == "sandboxes" or part.startswith("sandbox") for part in name.split("."))


def test_the_reader_sees_imports_however_they_are_spelled() -> None:
    """The walk itself: a lazy import, a `from` import and a relative one are all seen."""
    assert "providers.flexprice.client" in _imports(PROVIDERS / "flexprice" / "provider.py")
    source = (
        "def f():\n"
        "    from .sandbox import app\n"
        "    import sandboxes.kit\n"
        "    from providers.xendit import sandbox\n"
        "    from .. import sandbox_faults\n"
    )
    seen = _imports_of(source, ("providers", "flexprice"))
    lazy = {
        "providers.flexprice.sandbox.app",
        "sandboxes.kit",
        "providers.xendit.sandbox",
        "providers.sandbox_faults",
    }
    assert lazy <= seen
    assert all(_is_simulator(name) for name in lazy)
    assert not _is_simulator("providers.flexprice.client")


def test_no_provider_module_imports_a_sandbox() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if _is_simulator(n))
        for path in _modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_simulator_lives_under_providers() -> None:
    simulators = [
        str(path.relative_to(ROOT))
        for path in PROVIDERS.rglob("*")
        if any(part.startswith("sandbox") for part in path.relative_to(PROVIDERS).parts)
    ]
    assert simulators == []


def test_the_provider_protocol_does_not_import_starlette() -> None:
    names = _imports(PROVIDERS / "base.py")
    assert sorted(n for n in names if n.split(".")[0] == "starlette") == []


def test_the_provider_protocol_says_nothing_of_sandboxes() -> None:
    for gone in ("is_sandbox", "sandbox_app", "expose_sandbox", "in_process_sandbox"):
        assert not hasattr(ProviderBase, gone), gone
        assert gone not in getattr(InvoiceProvider, "__protocol_attrs__", set()), gone
        assert gone not in InvoiceProvider.__annotations__, gone
        assert gone not in vars(InvoiceProvider), gone


def test_a_sandbox_store_never_imports_its_seed() -> None:
    """The seed builds records through the store; the store is handed the seed, so the arrow
    goes one way (no import cycle, not even a lazy one)."""
    stores = [p for p in sorted((ROOT / "sandboxes").glob("*/store.py")) if p.parent.name != "kit"]
    assert [path.parent.name for path in stores] == ["flexprice", "xendit"]
    for store in stores:
        package = store.parent.name
        seeds = [n for n in _imports(store) if n.startswith(f"sandboxes.{package}.seed")]
        assert seeds == [], store
