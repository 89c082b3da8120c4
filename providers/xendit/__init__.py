"""Xendit as an invoice provider: the Invoice API v2 and Customer API adapter.

`factory` is the entry point (`invoice_gateway.providers`: `xendit`): it builds a
`XenditProvider` from `XENDIT_*` variables, on an in-process sandbox when no secret key is set.
The gateway wires it to the sandbox in `sandboxes.xendit`, which this package never imports.
"""

from providers.xendit.factory import factory
from providers.xendit.provider import XenditProvider
from providers.xendit.settings import XenditSettings

__all__ = ["XenditProvider", "XenditSettings", "factory"]
