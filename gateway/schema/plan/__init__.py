"""Field execution through plans compiled once per selection, graphql-core for everything else.

graphql-core executes every field the same way: a `GraphQLResolveInfo` and a `Path` built,
Strawberry's resolver wrapper (arguments converted, an `Info` built, extensions chained), then
`complete_value` walking the return type. That is 4-8 us a field, and a page of 50 invoices is
about 500 fields. Most of them are plain: a sync resolver that reads its object.

`PlannedExecutor` replaces graphql-core's `execute_fields` (the loop over one object's fields).
For each field of a selection it compiles once, and keeps for as long as the parsed document
lives, a function that resolves the field and completes its whole value (scalars coerced,
lists and objects walked) with no per-field bookkeeping. A field gets one only when every
field in its subtree is **plain**:

- a Strawberry field with no resolver (the attribute), or a sync resolver whose parameters are
  only `self` and `info`, with no GraphQL arguments, no field extensions or permissions;
- no directive anywhere in its subtree (`@include`/`@skip` depend on variables), no `@defer`;
- return types that are scalars, enums, lists, non-nulls and object types (an interface or a
  union is left to graphql-core, which resolves the runtime type).

A plain resolver gets an `info` that has only `context`; reading anything else from it stops
the plan for that field. The plan stops, too, at anything unusual: an exception, a null where
the type says non-null, a value a scalar cannot coerce, an object of the wrong type. Then
graphql-core executes that field again from its resolver, as it would have without a plan,
so errors, their paths and null propagation are graphql-core's own; plain resolvers have no
side effects, so running one twice changes nothing but time. Every other field (the root
fields, anything async, anything with arguments) goes through graphql-core as before, and the
objects it returns get plans for their own plain fields.

The parts: `info` (what a plan runs with, `PlanInfo`, and how it gives up), `plain` (which fields
are plain), `codegen` (the generated completion of an object, and of leaves), `compiler` (plans
for a selection, kept per parsed operation), `executor` (`PlannedExecutor`) and `verify`.

`GATEWAY_VERIFY_PLANS=1` (the test suite sets it) executes every planned field through
graphql-core as well and fails the request when the two answers differ.
"""

from gateway.schema.plan.executor import PlannedExecutor
from gateway.schema.plan.info import PlanInfo
from gateway.schema.plan.verify import PlanMismatch, mismatches, verifying

__all__ = ["PlanInfo", "PlanMismatch", "PlannedExecutor", "mismatches", "verifying"]
