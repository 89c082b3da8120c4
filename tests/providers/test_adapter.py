"""The adapter base (`providers.adapter`, `providers.client`) on the minimal provider Memo: what
a provider built on it gets without writing it, and its registration through the entry points
like any installed package (a distribution's metadata on `sys.path`, nothing installed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.wiring import wire
from providers.base import Endpoint
from providers.errors import MissingCredentials, ProviderAuthError, ProviderRejected
from providers.http import HttpPolicy
from providers.registry import available, settings_classes
from providers.transport import HandlerTransport, Request, Response

from .memo import MemoProvider, MemoSettings, factory
from .memo.api import BASE_URL, KEY, MemoApi

POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)
SECRET = "memo-s3cret-value"


def _on(api: object, environ: dict[str, str] | None = None) -> MemoProvider:
    transport = HandlerTransport(api)  # type: ignore[arg-type]
    endpoint = Endpoint(base_url=BASE_URL, api_key=KEY, transport=transport)
    provider = factory(environ or {}, endpoint=endpoint, policy=POLICY)
    assert isinstance(provider, MemoProvider)
    return provider


# -- the factory -----------------------------------------------------------------------------


def test_without_a_key_the_factory_names_the_variable() -> None:
    with pytest.raises(MissingCredentials, match="MEMO_API_KEY is not set: export it"):
        factory({"MEMO_BASE_URL": "https://api.memo.example"})


def test_an_unreadable_setting_is_named_and_its_value_never_shown() -> None:
    with pytest.raises(ValueError, match="invalid memo settings") as caught:
        factory({"MEMO_API_KEY": SECRET, "MEMO_DEADLINE": f"{SECRET}-not-a-number"})
    assert "MEMO_DEADLINE" in str(caught.value)
    assert SECRET not in str(caught.value)


async def test_an_endpoint_replaces_the_configured_key_url_and_transport() -> None:
    api = MemoApi()
    provider = _on(api, {"MEMO_API_KEY": "the-real-key", "MEMO_BASE_URL": "https://real.memo"})
    try:
        [invoice] = await provider.get_invoices(["inv_0001"])
        assert invoice is not None  # the in-memory API accepted the endpoint's key
        assert api.requests == 1
        assert provider.describe() == f"memo: {BASE_URL}"
    finally:
        await provider.aclose()


# -- what the base gives every provider ------------------------------------------------------


async def test_describe_and_reprs_never_show_the_key() -> None:
    provider = factory(
        {"MEMO_API_KEY": SECRET, "MEMO_BASE_URL": "https://user:pw@api.memo.example/v1"}
    )
    try:
        shown = [provider.describe(), repr(provider), repr(provider.client)]
        shown.append(str(provider.upstream_status()))
        assert provider.describe() == "memo: https://api.memo.example/v1"
        assert all(SECRET not in text and "pw" not in text for text in shown), shown
    finally:
        await provider.aclose()


async def test_an_error_that_quotes_the_key_reaches_no_one_with_it() -> None:
    def quoting(request: Request) -> Response:
        sent = request.headers["x-memo-key"]
        return Response.of(400, json={"error": {"code": "bad", "message": f"key {sent} refused"}})

    provider = _on(quoting)
    try:
        with pytest.raises(ProviderRejected) as caught:
            await provider.get_invoices(["inv_1"])
        assert KEY not in str(caught.value)
        assert "redacted" in caught.value.message
    finally:
        await provider.aclose()


async def test_fan_out_keeps_its_bound_across_calls_and_asks_each_id_once() -> None:
    api = MemoApi()
    in_flight = peak = 0

    async def slow(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return api(request)

    provider = _on(slow)
    ids = [f"inv_{n:04d}" for n in range(20)]
    try:
        async with asyncio.timeout(10):
            first, second = await asyncio.gather(
                provider.get_invoices([*ids, ids[0], "inv_unknown"]),
                provider.get_customers([f"cus_{n}" for n in range(4)]),
            )
        assert [i.id if i else None for i in first] == [*ids, ids[0], None]
        assert [c.id if c else None for c in second] == [f"cus_{n}" for n in range(4)]
        assert api.requests == 21 + 4  # each distinct id once, the unknown one too
        assert peak == provider.concurrency() == 8  # one bound for the provider, reached
    finally:
        await provider.aclose()


async def test_a_fan_out_failure_is_raised_as_itself() -> None:
    provider = _on(MemoApi(key="another-key"))
    try:
        with pytest.raises(ProviderAuthError):
            await provider.get_invoices(["inv_0001", "inv_0002", "inv_0003"])
    finally:
        await provider.aclose()


# -- registered like an installed package ----------------------------------------------------


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memo's distribution metadata on `sys.path`, as `pip install` would leave it."""
    info = tmp_path / "memo_provider-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: memo-provider\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[invoice_gateway.providers]\nmemo = tests.providers.memo:factory\n\n"
        "[invoice_gateway.sandboxes]\nmemo = tests.providers.memo.api:sandbox\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_without_its_distribution_memo_is_not_installed() -> None:
    assert "memo" not in available()
    with pytest.raises(LookupError, match="'memo', which is not installed"):
        wire("memo", {})


@pytest.mark.usefixtures("installed")
async def test_the_gateway_wires_memo_through_the_entry_points() -> None:
    assert available()["memo"] == "tests.providers.memo:factory"
    assert settings_classes()["memo"] is MemoSettings  # `serve --help` lists MEMO_*

    configured = wire("memo", {"MEMO_API_KEY": SECRET}, policy=POLICY)
    assert isinstance(configured.provider, MemoProvider)
    assert not configured.on_sandbox
    assert configured.describe() == "memo: https://api.memo.example"
    await configured.provider.aclose()

    # Without a key, the gateway wires it to its sandbox in process, and it answers.
    wired = wire("memo", {}, policy=POLICY)
    assert wired.on_sandbox
    assert wired.sandbox_key == KEY
    try:
        invoices = await wired.provider.get_invoices(["inv_0003", "inv_nope"])
        assert [i.id if i else None for i in invoices] == ["inv_0003", None]
    finally:
        await wired.provider.aclose()
