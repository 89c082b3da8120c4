"""The schema runs its extensions' hooks without wrapping them anew on every request, in the
order and with the exception semantics of Strawberry's own runner.

Regression: Strawberry's runner wrapped each hook of each extension in a new
`contextlib.contextmanager` (with `functools.update_wrapper`) and an `ExitStack` on every
request: 24 wrappers for the gateway's six extensions, about a quarter of the CPU of a
`{ __typename }` request. No test here asserts a duration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from gateway.context import GatewayContext
from gateway.documents import DocumentCache
from gateway.schema import build_schema
from gateway.schema.extensions import FusedRunner
from gateway.schema.limits import limit_extensions
from gateway.settings import GatewaySettings


def context() -> GatewayContext:
    return GatewayContext(providers={}, settings=GatewaySettings(), request_id="r1")


async def test_a_request_builds_no_hook_wrappers(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = build_schema(
        limits=limit_extensions(max_depth=10, max_aliases=10, max_tokens=1000, max_root_fields_=5),
        documents=DocumentCache(),
    )
    first = await schema.execute("{ __typename }", context_value=context())
    assert first.data == {"__typename": "Query"}
    wrapped: list[object] = []
    real = functools.update_wrapper

    def counting(wrapper: Any, wrapped_fn: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped.append(wrapped_fn)
        return real(wrapper, wrapped_fn, *args, **kwargs)

    monkeypatch.setattr(functools, "update_wrapper", counting)
    result = await schema.execute("{ __typename }", context_value=context())
    assert result.data == {"__typename": "Query"}
    assert result.extensions == {"cost": {"estimated": 0, "actual": 0}}
    assert wrapped == []


# -- the same order and exception semantics as Strawberry's runner -----------------------------


class Boom(Exception):
    pass


def recording(name: str, log: list[str], *, suppress: bool = False, fail: bool = False) -> type:
    class Recording(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            log.append(f"{name} enter")
            if fail:
                raise Boom(name)
            try:
                yield
            except Boom as exc:
                log.append(f"{name} saw {exc}")
                if not suppress:
                    raise
                log.append(f"{name} suppressed")
                return
            log.append(f"{name} exit")

        def on_parse(self) -> Iterator[None]:
            log.append(f"{name} parse")
            yield

    return Recording


def run(
    runner_class: type[SchemaExtensionsRunner], specs: list[dict[str, Any]], body: str
) -> list[str]:
    """The hooks' log when `body` ("ok" or "raise") runs inside `operation()`."""
    log: list[str] = []
    extensions = [recording(f"e{i}", log, **spec)() for i, spec in enumerate(specs)]
    runner = runner_class(None, extensions)  # type: ignore[arg-type]
    try:
        with runner.operation():
            log.append("body")
            with runner.parsing():
                pass
            if body == "raise":
                raise Boom("body")
    except Boom as exc:
        log.append(f"raised {exc}")
    except RuntimeError as exc:
        log.append(f"runtime error {exc!r}"[:30])
    return log


CASES = [
    ([{}, {}], "ok"),
    ([{}, {}], "raise"),
    ([{}, {"suppress": True}], "raise"),
    ([{"suppress": True}, {}], "raise"),
    ([{}, {"fail": True}, {}], "ok"),
    ([{"fail": True}], "ok"),
]


@pytest.mark.parametrize(("specs", "body"), CASES)
async def test_hooks_run_as_strawberry_runs_them(specs: list[dict[str, Any]], body: str) -> None:
    expected = run(SchemaExtensionsRunner, specs, body)
    assert run(FusedRunner, specs, body) == expected
    assert expected  # the case ran something


async def test_an_async_hook_keeps_strawberrys_runner() -> None:
    log: list[str] = []

    class Async(SchemaExtension):
        async def on_operation(self) -> Any:  # type: ignore[override]
            log.append("async enter")
            yield
            log.append("async exit")

    schema = build_schema()
    schema.extensions = [*schema.extensions, Async]
    result = await schema.execute("{ __typename }", context_value=context())
    assert result.data == {"__typename": "Query"}
    assert log == ["async enter", "async exit"]
