"""Xendit as an invoice provider: the Invoice API v2 and Customer API adapter.

`factory` is the entry point (`invoice_gateway.providers`: `xendit`): it builds a
`XenditProvider` from `XENDIT_*` variables. Without a secret key it raises `MissingCredentials`,
and the gateway wires the provider to the sandbox in `sandboxes.xendit` instead, which this
package never imports.
"""

from providers.xendit.provider import XenditProvider, factory
from providers.xendit.settings import XenditSettings

__all__ = ["XenditProvider", "XenditSettings", "factory"]
