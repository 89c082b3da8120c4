"""`FusedRunner`, the schema's extension runner: each request resumes the extensions' generator
hooks directly, in Strawberry's order and with its exception semantics, where Strawberry's own
runner wraps every hook anew; `fuse` picks it, or Strawberry's runner when a hook is not a
generator."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

__all__ = ["FusedRunner", "fuse"]


#: Per extension class and hook name: its generator hook, or None when it keeps the default.
_HOOKS: dict[tuple[type[SchemaExtension], str], Callable[[SchemaExtension], Any] | None] = {}


def _generator_hook(cls: type[SchemaExtension], name: str) -> Callable[..., Any] | None:
    """`cls`'s own `name` hook when it is a plain generator function; None when `cls` keeps
    SchemaExtension's (nothing to run). Raises `_NotFusable` for any other kind of hook."""
    key = (cls, name)
    if key not in _HOOKS:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            _HOOKS[key] = None
        elif inspect.isgeneratorfunction(hook):
            _HOOKS[key] = hook
        else:
            raise _NotFusable(name)
    return _HOOKS[key]


class _NotFusable(Exception):
    """An extension hook that is not a generator function (async, or a plain callable)."""


def _close(hooks: list[Generator[None]], exc: BaseException | None) -> BaseException | None:
    """Resume each entered hook, innermost first, as `contextlib.ExitStack` would: each sees
    the exception of the block (or of the hook inside it), may handle it (by returning: the
    hooks outside it then see none) or raise another. Returns the exception left, if any."""
    for hook in reversed(hooks):
        if exc is None:
            try:
                next(hook)
            except StopIteration:
                continue
            except BaseException as raised:  # propagated by the caller
                exc = raised
                continue
            exc = RuntimeError("an extension hook did not stop after its one yield")
            continue
        try:
            hook.throw(exc)
        except StopIteration:
            exc = None  # the hook handled it
        except BaseException as raised:  # the same or another one
            exc = raised
        else:
            exc = RuntimeError("an extension hook did not stop after throw()")
    return exc


class _Phase:
    """One lifecycle hook (`on_operation`, `on_parse`, ...) of every extension of a request,
    run as plain generators: entered in order, resumed in reverse (`_close`)."""

    __slots__ = ("entered", "hooks", "name")

    def __init__(self, name: str, hooks: list[tuple[Callable[..., Any], SchemaExtension]]):
        self.name = name
        self.hooks = hooks
        self.entered: list[Generator[None]] = []

    def __enter__(self) -> None:
        for hook, extension in self.hooks:
            generator = hook(extension)
            try:
                next(generator)
            except StopIteration:
                self._abandon()
                raise RuntimeError(f"an extension's {self.name} hook did not yield") from None
            except BaseException:
                # As Strawberry's runner: the hooks entered so far never see this exception;
                # they are closed (their `finally` and `with` blocks run).
                self._abandon()
                raise
            self.entered.append(generator)

    def _abandon(self) -> None:
        for generator in reversed(self.entered):
            generator.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        left = _close(self.entered, exc)
        # As Strawberry's runner: a hook may replace the exception, never suppress it.
        if left is not None and left is not exc:
            raise left

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(kind, exc, tb)


class FusedRunner(SchemaExtensionsRunner):
    """Strawberry's extension runner, for extensions whose hooks are all generators: each
    phase resumes the hooks directly. Strawberry's own runner wraps every hook of every
    extension in a new `contextlib.contextmanager` and an `ExitStack` on every request (24
    wrappers for the gateway's 6 extensions, with `functools.update_wrapper` and `inspect`
    for each: about a quarter of a `{ __typename }` request's CPU). Same order, same
    exception semantics. `fuse` returns Strawberry's runner when some hook is not a generator.
    Streamed results (`on_stream_result`) keep Strawberry's runner."""

    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> None:
        super().__init__(execution_context, extensions)
        self._plan = _plan(tuple(type(extension) for extension in extensions))

    def _phase(self, name: str) -> _Phase:
        extensions = self.extensions
        return _Phase(name, [(hook, extensions[i]) for hook, i in self._plan[name]])

    def operation(self) -> Any:
        return self._phase("on_operation")

    def parsing(self) -> Any:
        return self._phase("on_parse")

    def validation(self) -> Any:
        return self._phase("on_validate")

    def executing(self) -> Any:
        return self._phase("on_execute")


_PHASES = ("on_operation", "on_parse", "on_validate", "on_execute")
#: Per tuple of extension classes: each phase's hooks, with the index of their extension.
_PLANS: dict[
    tuple[type[SchemaExtension], ...], dict[str, list[tuple[Callable[..., Any], int]]]
] = {}
#: Schemas come with a few sets of extension classes; more (tests build many) start afresh.
_MAX_PLANS = 64


def _plan(
    kinds: tuple[type[SchemaExtension], ...],
) -> dict[str, list[tuple[Callable[..., Any], int]]]:
    plan = _PLANS.get(kinds)
    if plan is None:
        plan = {}
        for name in _PHASES:
            hooks = ((_generator_hook(kind, name), i) for i, kind in enumerate(kinds))
            plan[name] = [(hook, i) for hook, i in hooks if hook is not None]
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
            _HOOKS.clear()
        _PLANS[kinds] = plan
    return plan


def fuse(
    execution_context: ExecutionContext, extensions: list[SchemaExtension]
) -> SchemaExtensionsRunner:
    """A `FusedRunner` for `extensions`, or Strawberry's runner when one of their hooks is
    async or a plain callable (which only Strawberry's runner knows how to run)."""
    try:
        return FusedRunner(execution_context, extensions)
    except _NotFusable:
        return SchemaExtensionsRunner(execution_context, extensions)
