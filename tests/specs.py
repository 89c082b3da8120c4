"""The providers' OpenAPI files, kept in ``<repo>/specs/`` (their origin: specs/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parents[1] / "specs"


def spec_path(name: str) -> Path:
    """The path of ``specs/<name>``; fails the calling test with what to do when it is missing."""
    path = SPECS / name
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: the OpenAPI files are part of the repository, "
            "restore them with `git checkout -- specs/`",
            pytrace=False,
        )
    return path
