"""The `invoice_gateway.providers` entry point for Xendit: `XENDIT_*` settings -> provider."""

from __future__ import annotations

from providers.adapter import AdapterFactory
from providers.xendit.mapping import PROVIDER
from providers.xendit.provider import XenditProvider
from providers.xendit.settings import XenditSettings

__all__ = ["factory"]

factory = AdapterFactory(name=PROVIDER, settings=XenditSettings, provider=XenditProvider)
