"""The packages' public APIs are what their `__init__` exports; changing one is a decision."""

from __future__ import annotations

import gateway
import providers


def test_gateway_public_api() -> None:
    assert sorted(gateway.__all__) == [
        "GatewaySettings",
        "build_schema",
        "create_app",
        "create_app_from_environment",
    ]
    assert all(hasattr(gateway, name) for name in gateway.__all__)


def test_providers_public_api() -> None:
    assert sorted(providers.__all__) == [
        "Conflict",
        "InvoiceProvider",
        "NotFound",
        "Operation",
        "ProviderAuthError",
        "ProviderBadResponse",
        "ProviderBase",
        "ProviderError",
        "ProviderFactory",
        "ProviderRateLimited",
        "ProviderRejected",
        "ProviderTimeout",
        "ProviderUnavailable",
        "UnsupportedOperation",
    ]
    assert all(hasattr(providers, name) for name in providers.__all__)


def test_the_built_in_provider_is_registered_like_a_plug_in() -> None:
    from providers.registry import available

    assert available()["flexprice"] == "providers.flexprice:factory"
