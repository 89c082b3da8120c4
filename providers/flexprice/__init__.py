"""FlexPrice as an invoice provider.

`factory` is the entry point (`invoice_gateway.providers`: `flexprice`): it builds a
`FlexPriceProvider` from `FLEXPRICE_*` variables, on an in-process sandbox when no API key is
set. The sandbox itself lives in `providers.flexprice.sandbox` and is imported only when used.
"""

from providers.flexprice.provider import FlexPriceProvider, factory
from providers.flexprice.settings import FlexPriceSettings

__all__ = ["FlexPriceProvider", "FlexPriceSettings", "factory"]
