"""The `invoice_gateway.providers` entry point for Xendit: `XENDIT_*` settings -> provider."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from providers.xendit.mapping import PROVIDER
from providers.xendit.provider import XenditProvider
from providers.xendit.settings import XenditSettings

__all__ = ["XenditProviderFactory", "factory"]


class XenditProviderFactory:
    """The `invoice_gateway.providers` entry point: XENDIT_* settings -> provider.

    Without `XENDIT_SECRET_KEY` the provider runs on an in-process sandbox. Raises `ValueError`
    naming the variable when a setting cannot be read (its value is never echoed).
    """

    name = PROVIDER
    settings = XenditSettings

    def __call__(self, environ: Mapping[str, str]) -> XenditProvider:
        try:
            settings = XenditSettings.from_environ(environ)
        except ValidationError as exc:
            problems = XenditSettings.problems(exc)
            raise ValueError(f"invalid xendit settings: {problems}") from exc
        if settings.secret_key is None:
            return XenditProvider.in_process_sandbox(settings=settings)
        return XenditProvider(settings=settings)

    def __repr__(self) -> str:
        return "XenditProviderFactory()"


factory = XenditProviderFactory()
