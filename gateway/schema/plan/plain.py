"""What makes a field plain, so that a plan may resolve it: a Strawberry field read as an
attribute or through a sync resolver of `self` and `info` only (`resolver_of`, `attribute_of`),
with no directive anywhere in its subtree (`has_directives`)."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types.field import StrawberryField

from gateway.schema.plan.info import DEFINITION, PlanInfo

__all__ = ["attribute_of", "has_directives", "resolver_of"]


def has_directives(selection_set: SelectionSetNode | None, fragments: dict[str, Any]) -> bool:
    """Whether any selection under `selection_set` (fragments followed) carries a directive."""
    if selection_set is None:
        return False
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [selection_set]
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if selection.directives:
                return True
            if isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                details = fragments.get(name)
                if details is None:
                    return True  # unknown fragment: let graphql-core report it
                definition = details.definition
                if definition.directives or getattr(definition, "variable_definitions", None):
                    return True
                pending.append(definition.selection_set)
    return False


def resolver_of(field_def: Any) -> Callable[[Any, PlanInfo], Any] | None:
    """The field's resolution as a plain call, or None when it is not plain."""
    definition = field_def.extensions.get(DEFINITION) if field_def.extensions else None
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    if field_def.args:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if definition.default_resolver is not getattr:
            return None
        read = operator.attrgetter(definition.python_name)
        return lambda source, _info: read(source)
    if resolver.is_async or resolver.arguments:
        return None
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    func = resolver.wrapped_func
    if not callable(func) or inspect.iscoroutinefunction(func):
        return None
    params = list(inspect.signature(func).parameters.values())
    wanted: list[str] = []
    self_param, info_param = resolver.self_parameter, resolver.info_parameter
    for param in params:
        if self_param is not None and param.name == self_param.name:
            wanted.append("self")
        elif info_param is not None and param.name == info_param.name:
            wanted.append("info")
        elif param.default is inspect.Parameter.empty:
            return None
    if any(
        p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params[: len(wanted)]
    ):
        return None
    if wanted == ["self"]:
        return lambda source, _info: func(source)
    if wanted == ["self", "info"]:
        return func
    if wanted == ["info"]:
        return lambda _source, info: func(info)
    if not wanted:
        return lambda _source, _info: func()
    return None  # (info, self): no resolver here is written so


def attribute_of(field_def: Any) -> str | None:
    definition = field_def.extensions.get(DEFINITION) if field_def.extensions else None
    if not isinstance(definition, StrawberryField) or definition.base_resolver is not None:
        return None
    name = definition.python_name
    return name if name.isidentifier() and not name.startswith("__") else None
