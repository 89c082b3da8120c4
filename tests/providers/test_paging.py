"""The paging engine: the one listing order, the position codec, the merge, the snapshot bound."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from providers.models import Invoice, InvoiceStatus, PaymentStatus
from providers.paging import (
    MAX_POSITION_CHARS,
    Answer,
    BadPosition,
    LazyTokens,
    Position,
    decode_cursor,
    decode_positions,
    encode_cursor,
    encode_positions,
    interleave_newest,
    merge,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def inv(provider: str, id: str, minute: int) -> Invoice:
    return Invoice(
        provider=provider,
        id=id,
        status=InvoiceStatus.OPEN,
        payment_status=PaymentStatus.UNPAID,
        provider_status="x",
        currency="USD",
        created_at=T0 + dt.timedelta(minutes=minute),
    )


def test_merges_newest_first_and_breaks_ties_by_provider_then_id() -> None:
    a = [inv("b", "b2", 9), inv("b", "b1", 5), inv("b", "b0", 5)]
    b = [inv("a", "a1", 9), inv("a", "a0", 1)]
    parts = [a, b]
    ids = [parts[n][i].id for n, i in interleave_newest(parts, 10)]
    assert ids == ["a1", "b2", "b1", "b0", "a0"]


def test_stops_at_the_limit_and_on_empty_parts() -> None:
    a = [inv("a", f"a{n}", 10 - n) for n in range(5)]
    assert list(interleave_newest([a, []], 2)) == [(0, 0), (0, 1)]
    assert list(interleave_newest([[], []], 3)) == []
    assert list(interleave_newest([a], 0)) == []


def test_a_stream_resumed_by_time_remembers_the_ties_it_read_at_its_bound() -> None:
    """Three invoices share a minute; reading two of them leaves the bound at that minute and
    both ids to drop, so the third is neither skipped nor the first two repeated."""
    items = [inv("f", "x3", 9), inv("f", "x2", 5), inv("f", "x1", 5), inv("f", "x0", 5)]
    answer = Answer(
        position=Position().bounded([i.created_at for i in items]), items=items, more=True
    )
    assert answer.position.at == items[0].created_at  # the snapshot bound: its newest
    after = answer.after(3)
    assert (after.seen, after.at, after.tie_ids) == (3, items[1].created_at, ("x2", "x1"))
    assert after.before() == items[1].created_at + dt.timedelta(microseconds=1)
    assert after.unread(items[1:]) == [items[3]]
    # Reading on at the same time adds to the ties already read there.
    assert after.reading([items[3].created_at], ["x0"], 1, None).tie_ids == ("x2", "x1", "x0")


def test_a_stream_with_its_own_token_keeps_the_bound_of_its_first_answer() -> None:
    items = [inv("p", "p1", 9), inv("p", "p0", 3)]
    start = Position().bounded([i.created_at for i in items])
    answer = Answer(position=start, items=items, more=False, tokens=("1", "2"), end_token="2")
    first, last = answer.after(1), answer.after(2)
    assert (first.token, first.at, first.done) == ("1", start.at, False)
    assert (last.token, last.at, last.done) == ("2", start.at, True)


def test_the_merge_writes_positions_only_when_asked() -> None:
    written: list[int] = []
    a = [inv("a", f"a{n}", 20 - 2 * n) for n in range(3)]
    b = [inv("b", f"b{n}", 19 - 2 * n) for n in range(3)]
    merged = merge(
        [
            Answer(position=Position(), items=a, more=False, tokens=("a1", "a2", "a3")),
            Answer(position=Position(), items=b, more=True, tokens=("b1", "b2", "b3")),
        ],
        4,
    )
    assert [item.id for item in merged.items] == ["a0", "b0", "a1", "b1"]
    tokens = LazyTokens(4, lambda k: written.append(k) or str(merged.positions_after(k)))
    assert written == []
    assert [p.token for p in merged.positions_after(2)] == ["a2", "b1"]
    assert [p.token for p in merged.end_positions()] == ["a2", "b2"]
    assert merged.has_next is True
    assert tokens[-1] == tokens[3]
    assert written == [3]  # written once, when first read


def test_positions_round_trip_through_the_codec() -> None:
    positions = [
        Position(),
        Position(seen=3, at=T0, tie_ids=("inv_1", "inv-2"), total=9, done=True),
        Position(token="offset 12", at=T0),
    ]
    assert decode_positions(encode_positions(positions), 3) == positions
    named = {"a": positions[1], "b": positions[2]}
    assert decode_cursor(encode_cursor(named, fingerprint="f"), ["a", "b", "c"]) == (
        "f",
        {**named, "c": Position()},
    )


def row(**changed: object) -> str:
    values = {"token": None, "seen": 1, "at": 0, "ties": "inv_1", "total": None, "done": False}
    values.update(changed)
    return "p2:" + json.dumps([list(values.values())])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "p2:",
        "p1:[]",
        row(at=-1),
        row(at=253402300800000000),  # the year 9999
        row(at=None),  # ties without a time
        row(ties="inv 1"),
        row(ties="~".join(["t"] * 257)),
        row(seen=-1),
        row(seen=10**13),
        row(total=True),
        row(done=1),
        row(token=""),
        row(token="x" * (MAX_POSITION_CHARS + 1)),
        "p2:" + "[" * 100_000,
        "p2:[" + "[" * 3 + "]" * 3 + "]",
        "p2:" + json.dumps([[None, 1, 0, None, None, False]] * 2),  # two positions, one asked
    ],
)
def test_anything_the_codec_did_not_write_is_refused(text: str) -> None:
    with pytest.raises(BadPosition):
        decode_positions(text, 1)


def test_lazy_tokens_compare_as_the_sequence_they_stand_for() -> None:
    tokens = LazyTokens(3, str)
    assert tokens == ("0", "1", "2")
    assert tokens != ("0", "1")
    assert tokens[1:] == ("1", "2")
    with pytest.raises(IndexError):
        tokens[3]
