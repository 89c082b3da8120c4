"""No module of ours is imported under a one-letter name (`inputs as i`, `payloads as p`): a
reader meeting `i.CreateInvoiceInput` forty lines down has to scroll up to learn what `i` is."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The top-level packages of this repository: what "our own modules" means.
OURS = ("gateway", "providers", "sandboxes", "bench", "tools", "tests")


def _ours(module: str) -> bool:
    return module.split(".", 1)[0] in OURS


def one_letter_aliases(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            pairs = [(alias.name, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import (`from . import inputs as i`) is always of our own modules.
            base = "." * node.level + (node.module or "")
            pairs = [(f"{base.rstrip('.')}.{alias.name}", alias.asname) for alias in node.names]
        else:
            continue
        for name, asname in pairs:
            if asname is not None and len(asname) == 1 and (name.startswith(".") or _ours(name)):
                found.append(f"line {node.lineno}: {name} as {asname}")
    return found


def test_the_rule_sees_a_one_letter_alias() -> None:
    assert one_letter_aliases("from gateway.schema import inputs as i\n") == [
        "line 1: gateway.schema.inputs as i"
    ]
    assert one_letter_aliases("import providers.models as m\nimport datetime as d\n") == [
        "line 1: providers.models as m"
    ]
    # However the import is spelled: relative, or from a parent package.
    assert one_letter_aliases("from . import inputs as i\nfrom ..models import Invoice as I\n") == [
        "line 1: .inputs as i",
        "line 2: ..models.Invoice as I",
    ]


def test_no_module_of_ours_is_imported_under_one_letter() -> None:
    found = []
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            found += [
                f"{path.relative_to(ROOT)} {hit}" for hit in one_letter_aliases(path.read_text())
            ]
    assert not found, found
