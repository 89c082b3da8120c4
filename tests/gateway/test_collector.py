"""How `invoice-gateway serve` sets up the cyclic collector (`gateway.app.prepare_collector`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from gateway.app import prepare_collector
from gateway.settings import GatewaySettings


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector's thresholds and frozen objects as they were, afterwards."""
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_the_youngest_generation_is_collected_less_often(collector: None) -> None:
    _, middle, oldest = gc.get_threshold()
    prepare_collector(GatewaySettings.from_environ({"GATEWAY_GC_YOUNG_THRESHOLD": "25000"}))
    assert gc.get_threshold() == (25000, middle, oldest)
    prepare_collector(GatewaySettings.from_environ({}))
    assert gc.get_threshold() == (10000, middle, oldest)


def test_zero_keeps_pythons_thresholds(collector: None) -> None:
    gc.set_threshold(700, 10, 10)
    prepare_collector(GatewaySettings.from_environ({"GATEWAY_GC_YOUNG_THRESHOLD": "0"}))
    assert gc.get_threshold() == (700, 10, 10)


def test_what_was_built_before_serving_is_out_of_the_collectors_reach(collector: None) -> None:
    built = [{"a": [1]} for _ in range(100)]  # tracked containers, alive for good
    prepare_collector(GatewaySettings.from_environ({}))
    assert gc.get_freeze_count() >= len(built)
    assert not any(obj is built[0] for obj in gc.get_objects())


@pytest.mark.parametrize("value", ["-1", "10000001", "many"])
def test_a_threshold_out_of_range_is_refused(value: str) -> None:
    # What `serve` prints when it cannot start names the variable and the rule.
    with pytest.raises(ValidationError) as refused:
        GatewaySettings.from_environ({"GATEWAY_GC_YOUNG_THRESHOLD": value})
    assert GatewaySettings.problems(refused.value).startswith("GATEWAY_GC_YOUNG_THRESHOLD: ")
