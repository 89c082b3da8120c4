"""Settings come from a mapping and refuse values the gateway cannot work with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.cli import _local_url
from gateway.settings import GatewaySettings


def test_defaults_without_any_variable() -> None:
    settings = GatewaySettings.from_environ({})
    assert settings.providers == ("flexprice", "xendit")
    assert (settings.default_page_size, settings.max_page_size) == (20, 100)
    assert settings.graphiql is None
    assert settings.introspection is True


def test_variables_are_read_case_insensitively_and_lists_split() -> None:
    settings = GatewaySettings.from_environ(
        {"gateway_providers": " FlexPrice , other ", "GATEWAY_INTROSPECTION": "false"}
    )
    assert settings.providers == ("flexprice", "other")
    assert settings.introspection is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GATEWAY_PROVIDERS": " , "}, "names no provider"),
        ({"GATEWAY_DEFAULT_PAGE_SIZE": "200"}, "must not exceed GATEWAY_MAX_PAGE_SIZE"),
        ({"GATEWAY_PUBLIC_URL": "billing.example.com"}, "absolute http(s) URL"),
        ({"GATEWAY_PUBLIC_URL": "ftp://billing.example.com"}, "absolute http(s) URL"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GatewaySettings.from_environ(environ)
    assert message in str(caught.value)


def test_public_url_loses_its_trailing_slash() -> None:
    settings = GatewaySettings.from_environ({"GATEWAY_PUBLIC_URL": "https://b.example.com/gw/"})
    assert settings.public_url == "https://b.example.com/gw"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://127.0.0.1:8000"),
        ("::1", "http://[::1]:8000"),
        ("localhost", "http://localhost:8000"),
    ],
)
def test_serve_builds_a_url_a_browser_can_open(host: str, url: str) -> None:
    assert _local_url(host, 8000) == url
