"""IDs and cursors a client made up: always a coded refusal naming the argument, never a 500.

Global IDs and connection cursors are opaque strings the gateway hands out and reads back; a
client may send anything in their place. Each is read by one decoder (`GlobalId.decode`,
`decode_cursor`, both through `gateway.ids.unwrap`), and each provider reads its own position
inside a cursor. Hypothesis feeds them arbitrary text, arbitrary bytes in our encoding and
well-formed tokens with arbitrary values inside; then the same through GraphQL over HTTP
(`node(id:)`, `invoice(id:)`, `invoices(after:)`), where no answer may be a 5xx or a masked bug.
The cases the hardening issue found (each an `INTERNAL_SERVER_ERROR` before) are pinned below.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import ErrorCode, GatewayError
from gateway.ids import GlobalId, NodeType, encode_id, unwrap
from gateway.pagination import Position, decode_cursor, wrap_cursor
from providers.errors import ProviderRejected
from providers.flexprice import bodies
from providers.flexprice.search import parse_positions, search_request
from providers.paging import encode_positions
from tests.gateway.hostile import WRITE_KEY, Hostile, leaks, served_gateway

PROVIDERS = ["flexprice", "xendit"]
FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None, print_blob=True)


def b64(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def cursor_of(state: object) -> str:
    return b64("c2:" + json.dumps(state, separators=(",", ":")))


# -- what is thrown at the decoders -----------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
MICROS = st.integers(min_value=-5, max_value=10**40) | st.sampled_from([253402300799999999, 0])
TIES = st.lists(st.from_regex(r"[A-Za-z0-9_~ -]{1,70}", fullmatch=True), max_size=3).map("~".join)
TOKEN = st.none() | st.text(max_size=50)
COUNT = st.none() | st.integers(min_value=-5, max_value=10**40) | st.booleans() | st.floats()
DONE = st.booleans() | st.none() | st.integers()
#: Each value of a position ([token, seen, at, ties, total, done]), or any JSON in its place.
RAW_VALUES = [TOKEN, COUNT, st.none() | MICROS, st.none() | TIES, COUNT, DONE]
POSITION = st.one_of(JSON, st.tuples(*RAW_VALUES).map(list))
FLEXPRICE_POSITIONS = st.one_of(
    st.text(max_size=60),
    st.lists(POSITION, max_size=3).map(lambda ps: "p2:" + json.dumps(ps)),
    st.just("p2:" + "[" * 5000),
)
VALUES = [value | JSON for value in [TOKEN | FLEXPRICE_POSITIONS, *RAW_VALUES[1:]]]
CURSORS = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(b64),
    st.text(max_size=200).map(lambda text: b64("c2:" + text)),
    JSON.map(cursor_of),
    st.builds(
        lambda f, places: cursor_of([f, places]),
        st.just("") | st.text(max_size=5) | JSON,
        st.dictionaries(st.sampled_from([*PROVIDERS, "other"]), POSITION, max_size=3) | JSON,
    ),
    st.integers(min_value=1, max_value=60_000).map(lambda n: b64("c2:" + "[" * n)),
)
IDS = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(b64),
    st.builds(
        lambda kind, provider, native: b64(f"{kind}:{provider}:{native}"),
        st.sampled_from(["Invoice", "Customer", "invoice", "", "Node"]),
        st.sampled_from([*PROVIDERS, "", "Stripe", "a:b", "x" * 70]),
        st.text(max_size=300) | st.integers(min_value=0, max_value=100_000).map("a".__mul__),
    ),
)


# -- the decoders -----------------------------------------------------------------------------


@FAST
@given(kind=st.sampled_from(NodeType), provider=st.text(max_size=70), native=st.text(max_size=300))
def test_an_id_is_unpadded_url_safe_base64_of_its_parts(
    kind: NodeType, provider: str, native: str
) -> None:
    expected = base64.urlsafe_b64encode(f"{kind.value}:{provider}:{native}".encode())
    assert encode_id(kind.value, provider, native) == expected.rstrip(b"=").decode("ascii")
    assert GlobalId(kind, provider, native).encode() == encode_id(kind.value, provider, native)


@FAST
@given(value=IDS | st.none() | st.integers())
def test_an_id_decodes_to_a_global_id_or_invalid_id_naming_the_field(value: object) -> None:
    try:
        gid = GlobalId.decode(value, field="input.id")
    except GatewayError as refused:
        assert (refused.code, refused.field) == (ErrorCode.INVALID_ID, "input.id")  # noqa: PT017
        return
    assert GlobalId.decode(gid.encode(), field="id") == gid
    assert 0 < len(gid.native_id) <= 255
    assert gid.native_id.isprintable()


@FAST
@given(value=CURSORS | st.none() | st.integers())
def test_a_cursor_decodes_to_bounded_positions_or_bad_user_input_naming_after(
    value: object,
) -> None:
    try:
        positions = decode_cursor(value, providers=PROVIDERS)
    except GatewayError as refused:
        assert (refused.code, refused.field) == (ErrorCode.BAD_USER_INPUT, "after")  # noqa: PT017
        return
    for position in positions.values():
        if position.at is not None:  # what listing does with it: no overflow
            assert position.before() is not None
            assert position.at.year in range(1970, 9999)
        assert not position.tie_ids or position.at is not None
        assert all(0 < len(tie) <= 255 and tie.isprintable() for tie in position.tie_ids)
        assert position.token is None or 0 < len(position.token) <= 4096
        assert 0 <= position.seen <= 10**12
        assert position.total is None or 0 <= position.total <= 10**12


@FAST
@given(text=FLEXPRICE_POSITIONS, count=st.integers(min_value=1, max_value=3))
def test_a_flexprice_position_parses_into_searches_or_is_refused_naming_after(
    text: str, count: int
) -> None:
    try:
        positions = parse_positions(text, count)
    except ProviderRejected as refused:
        assert refused.field == "after"  # noqa: PT017
        return
    search = bodies.InvoiceFilter()
    for position in positions:
        search_request(position, search, 10)  # the next search: its bound is a date it takes
    assert parse_positions(encode_positions(positions), count) == positions


def test_every_token_goes_through_unwrap_which_bounds_its_length_first() -> None:
    refusal = GatewayError(ErrorCode.BAD_USER_INPUT, "no", field="x")
    assert unwrap(b64("fine"), field="x", max_chars=10, refusal=refusal) == "fine"
    for value in ["A" * 11, "", "ab!c", "a", "\u0661\u0662", b64("tab\tinside"), b64(b"\xff\xfe")]:
        with pytest.raises(GatewayError) as caught:
            unwrap(value, field="x", max_chars=10, refusal=refusal)
        assert caught.value is refusal


# -- through GraphQL --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway() as served:
        yield served


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=60) as made:
        yield made


@pytest.fixture(scope="module")
def issued(gateway: Hostile, client: httpx.Client) -> list[Any]:
    """The state inside a real cursor of the second page (both providers have a position)."""
    query = "{ invoices(first: 3) { pageInfo { endCursor } } }"
    body = client.post(f"{gateway.url}/graphql", json={"query": query}).json()
    cursor = body["data"]["invoices"]["pageInfo"]["endCursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    state: list[Any] = json.loads(raw.removeprefix("c2:"))
    assert set(state[1]) == set(PROVIDERS), state
    return state


def tampered(state: list[Any], provider: str, index: int, value: object) -> str:
    changed = json.loads(json.dumps(state))
    changed[1][provider][index] = value
    return cursor_of(changed)


def tampered_inner(state: list[Any], provider: str, index: int, value: object) -> str:
    """`state` with one value of the provider's own position (its token) changed."""
    token = state[1][provider][0]  # None: the provider gave nothing to the first page
    inner = json.loads(token.removeprefix("p2:")) if token else [[None, 0, None, None, None, False]]
    inner[0][index] = value
    return tampered(state, provider, 0, "p2:" + json.dumps(inner))


INVOICES = "query($a: String) { invoices(first: 2, after: $a) { edges { cursor } } }"
BY_ID = {
    "node": "query($i: ID!) { node(id: $i) { id } }",
    "invoice": "query($i: ID!) { invoice(id: $i) { id } }",
    "customer": "query($i: ID!) { customer(id: $i) { id } }",
    "customers": "query($i: ID!) { customers(ids: [$i]) { id } }",
    "filter": "query($i: ID!) { invoices(filter: {customerId: [$i]}) { totalCount } }",
    "voidInvoice": "mutation($i: ID!) { voidInvoice(input: {id: $i}) "
    "{ userErrors { code field } } }",
}


def upstream_calls(gateway: Hostile, client: httpx.Client) -> int:
    return sum(gateway.upstream(client).values())


def ask(client: httpx.Client, gateway: Hostile, query: str, variables: dict[str, Any]) -> Any:
    response = client.post(f"{gateway.url}/graphql", json={"query": query, "variables": variables})
    assert leaks(response.status_code, response.headers, response.text) == [], response.text[:500]
    return response.json()


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


@pytest.mark.parametrize(
    "case",
    [
        "at-9999-flexprice",
        "at-before-1970-flexprice",
        "at-9999-xendit",
        "at-before-1970-xendit",
        "ties-without-a-time",
        "flexprice-30-digits",
        "flexprice-30-digit-count",
        "flexprice-tie-with-a-space",
        "xendit-not-an-id",
        "xendit-path-in-its-position",
        "50000-brackets",
        "3000-brackets",
        "huge-count",
    ],
)
def test_a_tampered_cursor_is_bad_user_input_naming_after_and_reaches_no_provider(
    gateway: Hostile, client: httpx.Client, issued: list[Any], case: str
) -> None:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    far = (dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - epoch) // dt.timedelta(microseconds=1)
    no_time = json.loads(json.dumps(issued))
    no_time[1]["xendit"][2:4] = [None, "inv_1"]
    # A well-formed position whose tie is no invoice id: a path Xendit must never be sent.
    xendit_path = "p2:" + json.dumps([[None, 0, 0, "..~v2~x", None, False]])
    cursors = {
        "at-9999-flexprice": tampered(issued, "flexprice", 2, far),
        "at-before-1970-flexprice": tampered(issued, "flexprice", 2, -1),
        "at-9999-xendit": tampered(issued, "xendit", 2, far),
        "at-before-1970-xendit": tampered(issued, "xendit", 2, -1),
        "ties-without-a-time": cursor_of(no_time),
        "flexprice-30-digits": tampered_inner(issued, "flexprice", 2, 10**30),
        "flexprice-30-digit-count": tampered_inner(issued, "flexprice", 1, 10**30),
        "flexprice-tie-with-a-space": tampered_inner(issued, "flexprice", 3, "inv 1"),
        "xendit-not-an-id": tampered(issued, "xendit", 0, "../../v2/x?limit=1000"),
        "xendit-path-in-its-position": tampered(issued, "xendit", 0, xendit_path),
        "50000-brackets": b64("c2:" + "[" * 50_000),
        "3000-brackets": b64("c2:" + "[" * 3000),
        "huge-count": tampered(issued, "flexprice", 4, 10**40),
    }
    gateway.reset_upstream(client)
    body = ask(client, gateway, INVOICES, {"a": cursors[case]})
    assert body["data"] is None
    extensions = only_error(body)
    assert (extensions["code"], extensions["field"]) == ("BAD_USER_INPUT", "after"), body
    calls = gateway.upstream(client)
    if case.startswith(("flexprice-", "xendit-")):
        # Read by the provider: it makes no call (the other may have asked for its page).
        assert calls[case.split("-")[0]] == 0, calls
    else:  # refused by the gateway's decoder: nothing was asked
        assert calls == {"flexprice": 0, "xendit": 0}


@pytest.mark.parametrize("field", list(BY_ID))
@pytest.mark.parametrize(
    "native",
    ["a" * 100_000, "a" * 256, " inv_1", "inv\u00001"],
    ids=["100kB", "256", "space", "nul"],
)
def test_an_id_too_long_or_holding_what_no_id_holds_is_invalid_id_before_any_call(
    gateway: Hostile, client: httpx.Client, field: str, native: str
) -> None:
    kind = NodeType.INVOICE if field in ("invoice", "voidInvoice") else NodeType.CUSTOMER
    if field == "node":
        kind = NodeType.INVOICE
    value = GlobalId(kind, "xendit", native).encode()
    gateway.reset_upstream(client)
    body = ask(client, gateway, BY_ID[field], {"i": value})
    if field == "voidInvoice":
        [error] = body["data"]["voidInvoice"]["userErrors"]
        assert error == {"code": "INVALID_ID", "field": ["input", "id"]}
    else:
        extensions = only_error(body)
        assert extensions["code"] == "INVALID_ID"
        assert extensions["field"] in ("id", "ids[0]", "filter.customerId")
    assert upstream_calls(gateway, client) == 0


def test_a_real_id_and_a_real_cursor_still_work(
    gateway: Hostile, client: httpx.Client, issued: list[Any]
) -> None:
    for ids in ("flexprice_invoice", "xendit_invoice"):
        body = ask(client, gateway, BY_ID["invoice"], {"i": gateway.ids[ids][0]})
        assert body["data"]["invoice"]["id"] == gateway.ids[ids][0]
    body = ask(client, gateway, INVOICES, {"a": cursor_of(issued)})
    assert "errors" not in body, body
    assert len(body["data"]["invoices"]["edges"]) == 2


GRAPHQL = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@GRAPHQL
@given(value=IDS, field=st.sampled_from(["node", "invoice"]))
def test_any_id_through_graphql_is_an_answer_or_a_coded_refusal(
    gateway: Hostile, client: httpx.Client, value: str, field: str
) -> None:
    body = ask(client, gateway, BY_ID[field], {"i": value})
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] in ("INVALID_ID", "UNKNOWN_PROVIDER"), error


@GRAPHQL
@given(value=CURSORS)
def test_any_cursor_through_graphql_is_a_page_or_a_coded_refusal(
    gateway: Hostile, client: httpx.Client, value: str
) -> None:
    body = ask(client, gateway, INVOICES, {"a": value})
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == "after", error


@pytest.mark.parametrize("index", range(6), ids=["token", "seen", "at", "tie_ids", "total", "done"])
@pytest.mark.parametrize("provider", PROVIDERS)
@settings(GRAPHQL, max_examples=25)
@given(data=st.data())
def test_any_value_inside_a_real_cursor_through_graphql_is_a_page_or_a_coded_refusal(
    gateway: Hostile,
    client: httpx.Client,
    issued: list[Any],
    provider: str,
    index: int,
    data: st.DataObject,
) -> None:
    value = data.draw(VALUES[index])
    body = ask(client, gateway, INVOICES, {"a": tampered(issued, provider, index, value)})
    for error in body.get("errors") or []:
        # A well-formed position for an invoice Xendit does not have is Xendit's refusal.
        assert error["extensions"]["code"] in ("BAD_USER_INPUT", "PROVIDER_REJECTED"), error


def test_positions_round_trip_through_a_cursor() -> None:
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    token = encode_positions([Position(seen=2, at=at, tie_ids=("inv_1",))])
    positions = {"flexprice": Position(token=token, at=at, total=3, done=False)}
    decoded = decode_cursor(wrap_cursor(positions), providers=["flexprice", "xendit"])
    assert decoded == {**positions, "xendit": Position()}
