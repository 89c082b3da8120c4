"""The `invoice_gateway.providers` entry point for Xendit: `XENDIT_*` settings -> provider."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr, ValidationError

from providers.base import Endpoint
from providers.http import HttpPolicy
from providers.xendit.mapping import PROVIDER
from providers.xendit.provider import XenditProvider
from providers.xendit.settings import XenditSettings

__all__ = ["XenditProviderFactory", "factory"]


class XenditProviderFactory:
    """The `invoice_gateway.providers` entry point: XENDIT_* settings -> provider.

    With an `endpoint` (the gateway wiring the sandbox), the provider calls it with its key.
    Raises `MissingCredentials` without `XENDIT_SECRET_KEY` and without an endpoint, and
    `ValueError` naming the variable when a setting cannot be read (its value is never echoed).
    """

    name = PROVIDER
    settings = XenditSettings

    def __call__(
        self,
        environ: Mapping[str, str],
        *,
        endpoint: Endpoint | None = None,
        policy: HttpPolicy | None = None,
    ) -> XenditProvider:
        try:
            settings = XenditSettings.from_environ(environ)
        except ValidationError as exc:
            problems = XenditSettings.problems(exc)
            raise ValueError(f"invalid xendit settings: {problems}") from exc
        if endpoint is None:
            return XenditProvider(settings=settings, policy=policy)
        on_endpoint = settings.model_copy(
            update={"secret_key": SecretStr(endpoint.api_key), "base_url": endpoint.base_url}
        )
        return XenditProvider(settings=on_endpoint, transport=endpoint.transport, policy=policy)

    def __repr__(self) -> str:
        return "XenditProviderFactory()"


factory = XenditProviderFactory()
