"""Mutations: one `input` each, a payload of `{ invoice userErrors }`.

Expected refusals (bad input, unknown id, the provider's rules, an operation the provider lacks)
are user errors in the payload. A provider that is down or times out is a GraphQL error with
`extensions.code` and `extensions.provider`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from gateway.callers import Caller
from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.idempotency import ClaimPending, KeyReused, StoreUnavailable
from gateway.ids import GlobalId, NodeType
from gateway.schema import inputs, payloads
from gateway.schema.nodes import Invoice
from gateway.schema.permissions import CanWrite
from providers.base import InvoiceProvider
from providers.errors import (
    ProviderAuthError,
    ProviderBusy,
    ProviderCircuitOpen,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    UnsupportedOperation,
)
from providers.models import Invoice as InvoiceModel
from providers.models import (
    InvoiceDraft,
    InvoiceUpdate,
    LineItemDraft,
    PaymentPageOptions,
    PaymentStatusUpdate,
    RecalculationResult,
)

__all__ = ["Mutation"]

Info = strawberry.Info[GatewayContext, None]
T = TypeVar("T")
PayloadT = TypeVar("PayloadT", bound=payloads.InvoicePayload)
RulesT = TypeVar("RulesT", bound=BaseModel)

_USER_CODES = {code.value: code for code in payloads.UserErrorCode}
#: Failures that are no refusal of the input: GraphQL errors, which a client retries.
_RETRY_LATER = frozenset(
    {ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE, ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS}
)


class _Refused(Exception):
    def __init__(self, errors: list[payloads.UserError]) -> None:
        super().__init__("refused")
        self.errors = errors


def _check(rules: type[RulesT], values: dict[str, Any]) -> RulesT:
    try:
        return rules.model_validate(values)
    except ValidationError as exc:
        raise _Refused(
            [
                payloads.UserError(
                    code=payloads.UserErrorCode.INVALID_INPUT, message=message, field=path
                )
                for path, message in inputs.camel_path(exc)
            ]
        ) from exc


def _entries(entries: list[inputs.MetadataEntryInput] | None) -> list[dict[str, str]] | None:
    return None if entries is None else [{"key": e.key, "value": e.value} for e in entries]


def _payment_page(rules: inputs.PaymentPageRules | None) -> PaymentPageOptions | None:
    if rules is None:
        return None
    seconds = rules.duration_seconds
    return PaymentPageOptions(
        payer_email=rules.payer_email,
        success_redirect_url=rules.success_redirect_url,
        failure_redirect_url=rules.failure_redirect_url,
        payment_methods=tuple(rules.payment_methods or ()),
        duration=None if seconds is None else dt.timedelta(seconds=seconds),
    )


@dataclass(frozen=True, slots=True)
class _Deadline:
    """When one createInvoice must be over (`at`, the event loop's clock): it was given
    `seconds` (GATEWAY_CREATE_DEADLINE_SECONDS) from its start."""

    at: float
    seconds: float

    @classmethod
    def starting_now(cls, seconds: float) -> _Deadline:
        return cls(at=asyncio.get_running_loop().time() + seconds, seconds=seconds)

    async def run(self, provider: InvoiceProvider, work: Awaitable[T], *, late: str) -> T:
        """`work` (the provider's), cancelled when the deadline comes: then `ProviderTimeout`
        (PROVIDER_TIMEOUT) whose message is `late`, after what the provider did not finish."""
        timeout = asyncio.timeout_at(self.at)
        try:
            async with timeout:
                return await work
        except TimeoutError as exc:
            if not timeout.expired():
                raise  # a TimeoutError of the work's own, not the deadline
            raise ProviderTimeout(
                provider.name,
                f"{provider.name} did not finish within {self.seconds:g} s (the gateway's "
                f"deadline for one createInvoice). {late}",
            ) from exc


#: What a client should do when the deadline cut off a create it sent with a key ...
_LATE_WITH_KEY = (
    "The invoice may still be made: retry with the same idempotencyKey and input to get it."
)
#: ... without one ...
_LATE_WITHOUT_KEY = (
    "The invoice may still be made, and this create had no idempotencyKey, so sending it "
    "again may make a second one: look for it first, and send an idempotencyKey to make "
    "retries safe."
)
#: ... or the read of the invoice its key already made.
_LATE_READ = (
    "The invoice of this idempotencyKey exists: retry with the same key and input to get it."
)


async def _create_once(
    info: Info, provider: InvoiceProvider, draft: InvoiceDraft, key: str, deadline: _Deadline
) -> InvoiceModel:
    """One invoice per (caller, key): a repeat gets the first result, also while it is being
    made, in this process or (with a shared store) another; the key with another input is a
    user error. Waiting for the key and creating both end by `deadline`: waiting past it is
    IDEMPOTENCY_KEY_IN_PROGRESS, creating past it PROVIDER_TIMEOUT (the key is abandoned, in
    doubt at a provider that cannot refuse a second create with it)."""
    store = info.context.idempotency
    assert store is not None
    caller = info.context.caller.name if info.context.caller else "anonymous"
    described = {"provider": provider.name, "draft": draft.model_dump(mode="json")}
    fingerprint = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
    for _ in range(3):  # bounded: a remembered invoice that is gone is forgotten, once or so
        try:
            claim = await store.claim(caller, key, fingerprint, until=deadline.at)
        except KeyReused:
            raise _Refused([_key_reused("a different invoice")]) from None
        except StoreUnavailable as exc:
            raise GatewayError(
                ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE,
                f"{exc}: no invoice was created; retry with the same idempotencyKey",
            ) from exc
        except ClaimPending as exc:
            raise GatewayError(
                ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
                "a create with this idempotencyKey is still running: retry with the same key "
                "and input to get its invoice",
            ) from exc
        if claim.done is None:
            break  # this request owns the key: create
        [remembered] = await deadline.run(
            provider, provider.get_invoices([claim.done]), late=_LATE_READ
        )
        if remembered is not None:
            return remembered
        # The provider no longer has it (deleted, a sandbox reset): creating again makes no
        # duplicate, so the key is free again.
        await store.abandon(caller, key)
    else:
        raise _Refused([_key_reused("invoices that keep disappearing")])
    try:
        # The provider compares what it keeps under the key with the draft, and raises
        # `IdempotencyKeyReused` naming what differs (the gateway forgot the key: a restart,
        # past its TTL, another process without a shared store).
        invoice = await deadline.run(
            provider,
            provider.create_invoice(draft, idempotency_key=provider_key(info.context.caller, key)),
            late=_LATE_WITH_KEY,
        )
        if invoice.customer_id not in (None, draft.customer_id) or (
            invoice.currency != draft.currency
        ):
            # The same check for a provider that does not compare for itself.
            raise _Refused([_key_reused("an invoice for another customer or currency")])
    except BaseException as exc:
        await store.abandon(caller, key, in_doubt=_in_doubt(exc, provider))
        raise
    await store.complete(caller, key, invoice.id)
    return invoice


#: Failures after which the provider cannot have made the invoice: it refused, or was never
#: asked (the gateway's own circuit breaker and bulkhead).
_NOT_MADE = (
    ProviderRejected,
    UnsupportedOperation,
    ProviderAuthError,
    ProviderBusy,
    ProviderCircuitOpen,
)


def _in_doubt(exc: BaseException, provider: InvoiceProvider) -> bool:
    """Whether a create that failed with `exc` may still be carried out by a provider that
    would not refuse a second create with its key (a timeout, a dropped connection, a 5xx;
    or the request was cancelled while the create was in flight)."""
    if getattr(provider, "deduplicates_creates", False) or isinstance(exc, _Refused):
        return False
    if isinstance(exc, ProviderError):
        return not isinstance(exc, _NOT_MADE)
    return isinstance(exc, asyncio.CancelledError)


def provider_key(caller: Caller | None, key: str) -> str:
    """The key the provider sees: the client's own when callers are anonymous, else scoped to
    the caller (`NAME:KEY`, or a hash of both when that would be long), so two callers who
    pick the same key never get each other's invoice from the provider."""
    if caller is None:
        return key
    scoped = f"{caller.name}:{key}"
    if len(scoped) <= 255:
        return scoped
    return "gwk-" + hashlib.sha256(f"{caller.name}\x00{key}".encode()).hexdigest()


def _key_reused(what: str) -> payloads.UserError:
    return payloads.UserError(
        code=payloads.UserErrorCode.IDEMPOTENCY_KEY_REUSED,
        message=f"idempotencyKey was used for {what}: send a new key for a new invoice, or "
        "the same input to get the first one back",
        field=["input", "idempotencyKey"],
    )


def _invoice_target(info: Info, value: strawberry.ID) -> tuple[InvoiceProvider, str]:
    gid = GlobalId.decode(value, field="input.id", expect=NodeType.INVOICE)
    return info.context.provider(gid.provider, field="input.id"), gid.native_id


async def _run(
    info: Info,
    payload: type[PayloadT],
    action: Callable[[], Awaitable[InvoiceModel | RecalculationResult]],
) -> PayloadT:
    """Run `action`; refusals become user errors, a provider outage stays a GraphQL error."""
    try:
        result = await action()
    except _Refused as exc:
        return payload(invoice=None, user_errors=exc.errors)
    except GatewayError as exc:
        if exc.code in _RETRY_LATER:
            raise  # a GraphQL error with its code, as for a provider that is down

        code = _USER_CODES.get(exc.code.value, payloads.UserErrorCode.INVALID_INPUT)
        field = ["input", *exc.field.removeprefix("input.").split(".")] if exc.field else None
        return payload(
            invoice=None,
            user_errors=[payloads.UserError(code=code, message=exc.message, field=field)],
        )
    except (ProviderRejected, UnsupportedOperation) as exc:
        code = _USER_CODES[code_for_provider_error(exc).value]
        field = ["input", exc.field] if exc.field else None
        return payload(
            invoice=None,
            user_errors=[payloads.UserError(code=code, message=exc.message, field=field)],
        )
    message = None
    if isinstance(result, RecalculationResult):
        message, model = result.message, result.invoice
    else:
        model = result
    if model is not None:
        info.context.loaders.prime_invoices((model,))
    out = payload(invoice=None if model is None else Invoice(model=model), user_errors=[])
    if message is not None and isinstance(out, payloads.RecalculateInvoicePayload):
        out.message = message
    return out


async def _on_invoice(
    info: Info,
    payload: type[PayloadT],
    invoice_id: strawberry.ID,
    act: Callable[[InvoiceProvider, str], Awaitable[InvoiceModel | RecalculationResult]],
) -> PayloadT:
    """`_run` an action on the provider and native id that `invoice_id` names."""

    async def action() -> InvoiceModel | RecalculationResult:
        provider, native_id = _invoice_target(info, invoice_id)
        return await act(provider, native_id)

    return await _run(info, payload, action)


@strawberry.type(description="Every change the gateway can make to invoices.")
class Mutation:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a one-off invoice in the customer's provider. Subtotal and total are "
        "the exact sum of the lines. Send an idempotencyKey to make retries safe.",
    )
    async def create_invoice(
        self, info: Info, input: inputs.CreateInvoiceInput
    ) -> payloads.CreateInvoicePayload:
        async def action() -> InvoiceModel:
            deadline = _Deadline.starting_now(info.context.settings.create_deadline_seconds)
            gid = GlobalId.decode(
                input.customer_id, field="input.customerId", expect=NodeType.CUSTOMER
            )
            provider = info.context.provider(gid.provider, field="input.customerId")
            rules = _check(
                inputs.CreateInvoiceRules,
                {
                    "currency": input.currency,
                    "line_items": [
                        {
                            "description": line.description,
                            "quantity": line.quantity,
                            "unit_amount": line.unit_amount,
                        }
                        for line in input.line_items
                    ],
                    "due_at": input.due_at,
                    "description": input.description,
                    "metadata": _entries(input.metadata),
                    "idempotency_key": input.idempotency_key,
                    "payment_page": None
                    if input.payment_page is None
                    else vars(input.payment_page),
                },
            )
            if problems := rules.precision_problems():
                raise _Refused(
                    [
                        payloads.UserError(
                            code=payloads.UserErrorCode.INVALID_INPUT, message=msg, field=path
                        )
                        for path, msg in problems
                    ]
                )
            draft = InvoiceDraft(
                customer_id=gid.native_id,
                currency=rules.currency,
                line_items=tuple(
                    LineItemDraft(
                        description=line.description,
                        quantity=line.quantity,
                        unit_amount=line.unit_amount,
                    )
                    for line in rules.line_items
                ),
                due_at=rules.due_at,
                description=rules.description,
                metadata={e.key: e.value for e in rules.metadata or ()},
                payment_page=_payment_page(rules.payment_page),
            )
            if rules.idempotency_key is None or info.context.idempotency is None:
                # The gateway's own key: its retries are safe, and nobody can repeat it.
                return await deadline.run(
                    provider,
                    provider.create_invoice(draft, idempotency_key=f"gw-{uuid.uuid4()}"),
                    late=_LATE_WITHOUT_KEY,
                )
            return await _create_once(info, provider, draft, rules.idempotency_key, deadline)

        return await _run(info, payloads.CreateInvoicePayload, action)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change an invoice's due date, metadata or PDF URL (FlexPrice: drafts and "
        "finalized invoices only).",
    )
    async def update_invoice(
        self, info: Info, input: inputs.UpdateInvoiceInput
    ) -> payloads.UpdateInvoicePayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            rules = _check(
                inputs.UpdateInvoiceRules,
                {
                    "due_at": input.due_at,
                    "metadata": _entries(input.metadata),
                    "pdf_url": input.pdf_url,
                },
            )
            update = InvoiceUpdate(
                due_at=rules.due_at,
                metadata=None
                if rules.metadata is None
                else {e.key: e.value for e in rules.metadata},
                pdf_url=rules.pdf_url,
            )
            return await provider.update_invoice(native_id, update)

        return await _on_invoice(info, payloads.UpdateInvoicePayload, input.id, act)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Issue a draft invoice: it gets its number and becomes OPEN (or PAID when "
        "nothing is due).",
    )
    async def finalize_invoice(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.FinalizeInvoicePayload:
        return await _on_invoice(
            info,
            payloads.FinalizeInvoicePayload,
            input.id,
            lambda pr, nid: pr.finalize_invoice(nid),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Cancel an invoice. FlexPrice: it becomes VOID, and what was already paid is "
        "credited to the customer's wallet. Xendit, whose only way to cancel is expiry: it is "
        "expired at once and becomes EXPIRED (a paid invoice cannot be).",
    )
    async def void_invoice(
        self, info: Info, input: inputs.VoidInvoiceInput
    ) -> payloads.VoidInvoicePayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            rules = _check(inputs.VoidInvoiceRules, {"metadata": _entries(input.metadata)})
            metadata = None if rules.metadata is None else {e.key: e.value for e in rules.metadata}
            return await provider.void_invoice(native_id, metadata=metadata)

        return await _on_invoice(info, payloads.VoidInvoicePayload, input.id, act)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Record a payment status by hand, for money received outside the provider.",
    )
    async def update_invoice_payment_status(
        self, info: Info, input: inputs.UpdateInvoicePaymentStatusInput
    ) -> payloads.UpdateInvoicePaymentStatusPayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            rules = _check(
                inputs.PaymentStatusRules,
                {"payment_status": input.payment_status, "amount": input.amount},
            )
            update = PaymentStatusUpdate(status=input.payment_status, amount=rules.amount)
            return await provider.update_payment_status(native_id, update)

        return await _on_invoice(info, payloads.UpdateInvoicePaymentStatusPayload, input.id, act)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Charge the invoice now from what the customer holds at the provider "
        "(FlexPrice: the customer's wallets).",
    )
    async def attempt_invoice_payment(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.AttemptInvoicePaymentPayload:
        return await _on_invoice(
            info,
            payloads.AttemptInvoicePaymentPayload,
            input.id,
            lambda pr, nid: pr.attempt_payment(nid),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Recompute an invoice from its subscription. FlexPrice: a draft is "
        "recalculated in place (then finalized unless finalize is false); a voided invoice gets "
        "a replacement built in the background (see `message` and the invoice's raw "
        "recalculated_invoice_id).",
    )
    async def recalculate_invoice(
        self, info: Info, input: inputs.RecalculateInvoiceInput
    ) -> payloads.RecalculateInvoicePayload:
        return await _on_invoice(
            info,
            payloads.RecalculateInvoicePayload,
            input.id,
            lambda pr, nid: pr.recalculate_invoice(nid, finalize=input.finalize),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Ask the provider to send the invoice to the customer again (FlexPrice fires "
        "its invoice.communication.triggered webhook).",
    )
    async def trigger_invoice_communication(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.TriggerInvoiceCommunicationPayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            await provider.trigger_communication(native_id)
            found = await info.context.loaders.invoices.load((provider.name, native_id))
            if found is None:
                raise GatewayError(
                    ErrorCode.NOT_FOUND, "input.id: no such invoice", field="input.id"
                )
            return found

        return await _on_invoice(info, payloads.TriggerInvoiceCommunicationPayload, input.id, act)
