"""A provider quoting our key in a 4xx message: the message is passed on, the key is not."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from providers.errors import ProviderRejected
from providers.flexprice.client import FlexPriceClient
from providers.http import HttpPolicy
from providers.redaction import REDACTED
from providers.transport import HandlerTransport, Request, Response
from providers.xendit.client import XenditClient

KEY = "sk_live_0123456789abcdef"
POLICY = HttpPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)


def _quoting() -> HandlerTransport:
    def handler(request: Request) -> Response:
        # Read by both providers' error readers: FlexPrice's {code, message}, Xendit's
        # {error_code, message}.
        text = f"key {KEY} may not read invoice inv_1"
        return Response.of(400, json={"message": text, "code": "x", "error_code": "X"})

    return HandlerTransport(handler)


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_a_4xx_message_keeps_its_text_but_not_the_key(provider: str) -> None:
    client: FlexPriceClient | XenditClient
    if provider == "flexprice":
        client = FlexPriceClient.connect(
            base_url="http://fp.test/v1",
            api_key=SecretStr(KEY),
            policy=POLICY,
            transport=_quoting(),
        )
    else:
        client = XenditClient.connect(
            base_url="http://xnd.test",
            secret_key=SecretStr(KEY),
            policy=POLICY,
            transport=_quoting(),
        )
    with pytest.raises(ProviderRejected) as refused:
        await client.get_invoice("inv_1")
    await client.aclose()
    assert refused.value.message == f"key {REDACTED} may not read invoice inv_1"
    assert KEY not in repr(refused.value)
