"""`PlannedExecutor`: Strawberry's execution context with graphql-core's loop over one object's
fields (`execute_fields`) replaced: a field with a plan is answered by it, any other (or one
its plan gives up on) by graphql-core, as before."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfoHelpers, Undefined
from graphql.pyutils import Path, RefMap, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.schema.plan.compiler import Compiler, ObjectPlan, document_plans, plan_key
from gateway.schema.plan.info import GroupedFieldSet, PlanInfo
from gateway.schema.plan.verify import check, verifying

__all__ = ["PlannedExecutor"]


async def _finished_gather(_values: Any) -> list[Any]:
    raise RuntimeError("the operation's execution has finished")


def _finished_track(_values: Any) -> None:
    raise RuntimeError("the operation's execution has finished")


_FINISHED = GraphQLResolveInfoHelpers(_finished_gather, _finished_track)


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with planned fields (`gateway.schema.plan`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plan_info = PlanInfo(self.context_value)
        #: This execution's plans by the identity of graphql-core's memoized field sets.
        self._local: dict[int, tuple[GroupedFieldSet, ObjectPlan]] = {}
        self._verify = verifying()
        self._document_plans: dict[tuple[Any, ...], ObjectPlan] | None = None

    def build_response(self, data: dict[str, Any] | None) -> Any:
        result = super().build_response(data)
        # graphql-core's executor refers to itself (its `async_helpers` are its own bound
        # methods): a cycle only the cyclic collector frees, and through `context_value` it held
        # the request's loaders, pages and answer until a full collection (tens of ms each, and
        # the peak memory). The response is built: drop the helpers, and the request's objects
        # go as soon as the last reference does.
        self.async_helpers = _FINISHED
        return result

    def build_per_event_executor(self, payload: Any) -> Any:
        # graphql-core runs each event of a subscription on a shallow copy of its executor,
        # which then shares the caches keyed by the identity of each event's own field sets
        # (graphql-core's `_relevant_sub_fields` and `_stream_usages`, and our `_local`): they
        # grew by ~2 kB an event for as long as the subscription lasted. Each event gets its own.
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, PlannedExecutor)
        executor._local = {}
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> ObjectPlan:
        local = self._local.get(id(grouped))
        if local is not None and local[0] is grouped:
            return local[1]
        key = plan_key(parent_type, grouped)
        plans = self._document_plans
        if plans is None:
            plans = self._document_plans = document_plans.of(self.operation)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = Compiler(self).object_plan(parent_type, grouped)
        self._local[id(grouped)] = (grouped, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if not plan.any_planned:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        info = self._plan_info
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for key, planned in plan.steps:
                if planned is not None:
                    try:
                        value = planned(source_value, info)
                    except Exception:  # noqa: S110 - graphql-core executes this field instead
                        pass
                    else:
                        if self._verify:
                            check(
                                self, parent_type, source_value, path, grouped_field_set[key], value
                            )
                        results[key] = value
                        continue
                details = grouped_field_set[key]
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, key, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[key] = result
                    if is_awaitable(result):
                        awaitable_fields.append(key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()
