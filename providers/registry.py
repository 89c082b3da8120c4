"""Provider name -> factory, through the entry-point group `invoice_gateway.providers`.

The built-in providers register themselves there too (see pyproject.toml), so the path a
third-party provider takes is the path the built-ins prove every day.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from providers.base import ProviderFactory
from providers.settings import EnvironSettings

__all__ = [
    "ENTRY_POINT_GROUP",
    "available",
    "load_factory",
    "settings_classes",
]

ENTRY_POINT_GROUP = "invoice_gateway.providers"


def available() -> dict[str, str]:
    """Installed provider names and the object each entry point names (not yet imported)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_factory(name: str) -> ProviderFactory:
    """The factory registered as `name`. Raises LookupError naming the installed ones."""
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        factory: ProviderFactory = ep.load()
        return factory
    installed = ", ".join(sorted(available())) or "none"
    raise LookupError(
        f"GATEWAY_PROVIDERS names {name!r}, which is not installed (installed: {installed}); "
        f"install its package or remove it from GATEWAY_PROVIDERS"
    )


def settings_classes() -> dict[str, type[EnvironSettings]]:
    """Each installed provider's settings class, for those whose factory names one."""
    found: dict[str, type[EnvironSettings]] = {}
    for name in sorted(available()):
        settings = getattr(load_factory(name), "settings", None)
        if isinstance(settings, type) and issubclass(settings, EnvironSettings):
            found[name] = settings
    return found
