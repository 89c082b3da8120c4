"""FlexPrice passes the provider contract on its in-process sandbox."""

from __future__ import annotations

from .contract import SandboxContract


class TestFlexPriceContract(SandboxContract):
    provider_name = "flexprice"
    key_variable = "FLEXPRICE_API_KEY"
