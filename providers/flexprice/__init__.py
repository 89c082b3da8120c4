"""FlexPrice as an invoice provider.

`factory` is the entry point (`invoice_gateway.providers`: `flexprice`): it builds a
`FlexPriceProvider` from `FLEXPRICE_*` variables. Without an API key it raises
`MissingCredentials`, and the gateway wires the provider to the sandbox in `sandboxes.flexprice`
instead, which this package never imports.
"""

from providers.flexprice.provider import FlexPriceProvider, factory
from providers.flexprice.settings import FlexPriceSettings

__all__ = ["FlexPriceProvider", "FlexPriceSettings", "factory"]
