"""FlexPrice as an invoice provider.

`factory` is the entry point (`invoice_gateway.providers`: `flexprice`): it builds a
`FlexPriceProvider` from `FLEXPRICE_*` variables, on an in-process sandbox when no API key is
set: the gateway wires it to the sandbox in `sandboxes.flexprice`, which this package never
imports.
"""

from providers.flexprice.provider import FlexPriceProvider, factory
from providers.flexprice.settings import FlexPriceSettings

__all__ = ["FlexPriceProvider", "FlexPriceSettings", "factory"]
