"""Every setting the gateway and its providers read is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import GatewaySettings
from providers.flexprice.settings import FlexPriceSettings
from providers.settings import EnvironSettings
from providers.xendit.settings import XenditSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("settings", "prefix"),
    [(GatewaySettings, "GATEWAY_"), (FlexPriceSettings, "FLEXPRICE_"), (XenditSettings, "XENDIT_")],
)
def test_every_variable_is_in_the_readme(settings: type[EnvironSettings], prefix: str) -> None:
    assert settings.model_config.get("env_prefix") == prefix
    missing = [
        f"{prefix}{name.upper()}"
        for name in settings.model_fields
        if f"`{prefix}{name.upper()}`" not in README
    ]
    assert not missing, f"document these in README.md's Configuration table: {missing}"
