"""Creating an invoice once: the gateway's service below the schema.

`create_invoice` is what `createInvoice` calls with the caller, the client's idempotency key,
the draft and the provider: it applies the provider's limits, then claims the key, creates,
and remembers or replays the invoice, all within one deadline. The resolver only converts the
input to a draft and the outcome to a payload.

What it raises, for the resolver to answer:
- the provider's refusals (`InvalidInput` and `ProviderRejected` from `check_draft`, before
  anything is claimed or sent; `ProviderRejected` and `IdempotencyKeyReused` from the create);
- `KeyMismatch`: the key was used for another input, or for an invoice that does not match;
- `GatewayError` `IDEMPOTENCY_STORE_UNAVAILABLE` or `IDEMPOTENCY_KEY_IN_PROGRESS`: nothing was
  created, retry later;
- `ProviderTimeout` when the deadline cut the provider's work off, and any other provider error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from gateway.callers import Caller
from gateway.errors import ErrorCode, GatewayError
from gateway.idempotency import ClaimPending, IdempotencyStore, KeyReused, StoreUnavailable
from gateway.telemetry.record import current_record
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
from providers.models import Invoice, InvoiceDraft

__all__ = ["Deadline", "KeyMismatch", "create_invoice", "provider_key"]

T = TypeVar("T")


class KeyMismatch(Exception):
    """The idempotency key was used for something else than this create: `what` says what,
    for a client ("a different invoice")."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


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


@dataclass(frozen=True, slots=True)
class Deadline:
    """When one create must be over (`at`, the event loop's clock): it was given `seconds`
    (GATEWAY_CREATE_DEADLINE_SECONDS) from its start."""

    at: float
    seconds: float

    @classmethod
    def starting_now(cls, seconds: float) -> Deadline:
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


async def create_invoice(
    provider: InvoiceProvider,
    draft: InvoiceDraft,
    *,
    key: str | None,
    caller: Caller | None,
    store: IdempotencyStore | None,
    deadline: Deadline,
) -> Invoice:
    """The invoice `draft` asks `provider` for, made at most once per (caller, `key`).

    The provider's limits are checked first (`check_draft`): a refusal claims no key and sends
    nothing. Without `key` (or without a `store`) the gateway sends a key of its own,
    `gw-<uuid4>`, so the provider's retries are safe and nobody can repeat it."""
    provider.check_draft(draft)
    if key is None or store is None:
        return await deadline.run(
            provider,
            provider.create_invoice(draft, idempotency_key=f"gw-{uuid.uuid4()}"),
            late=_LATE_WITHOUT_KEY,
        )
    return await _create_once(provider, draft, key, caller, store, deadline)


def _fingerprint(provider: InvoiceProvider, draft: InvoiceDraft) -> str:
    described = {"provider": provider.name, "draft": draft.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


async def _create_once(
    provider: InvoiceProvider,
    draft: InvoiceDraft,
    key: str,
    caller: Caller | None,
    store: IdempotencyStore,
    deadline: Deadline,
) -> Invoice:
    """One invoice per (caller, key): a repeat gets the first result, also while it is being
    made, in this process or (with a shared store) another; the key with another input is
    `KeyMismatch`. Waiting for the key and creating both end by `deadline`: waiting past it is
    IDEMPOTENCY_KEY_IN_PROGRESS, creating past it PROVIDER_TIMEOUT (the key is abandoned, in
    doubt at a provider that cannot refuse a second create with it)."""
    owner = caller.name if caller else "anonymous"
    fingerprint = _fingerprint(provider, draft)
    for _ in range(3):  # bounded: a remembered invoice that is gone is forgotten, once or so
        try:
            claim = await store.claim(owner, key, fingerprint, until=deadline.at)
        except KeyReused:
            _note("conflict")
            raise KeyMismatch("a different invoice") from None
        except StoreUnavailable as exc:
            _note("unavailable")
            raise GatewayError(
                ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE,
                f"{exc}: no invoice was created; retry with the same idempotencyKey",
            ) from exc
        except ClaimPending as exc:
            _note("in_progress")
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
            _note("replayed")
            return remembered
        # The provider no longer has it (deleted, a sandbox reset): creating again makes no
        # duplicate, so the key is free again.
        await store.abandon(owner, key)
    else:
        raise KeyMismatch("invoices that keep disappearing")
    try:
        # The provider compares what it keeps under the key with the draft, and raises
        # `IdempotencyKeyReused` naming what differs (the gateway forgot the key: a restart,
        # past its TTL, another process without a shared store).
        invoice = await deadline.run(
            provider,
            provider.create_invoice(draft, idempotency_key=provider_key(caller, key)),
            late=_LATE_WITH_KEY,
        )
        if invoice.customer_id not in (None, draft.customer_id) or (
            invoice.currency != draft.currency
        ):
            # The same check for a provider that does not compare for itself.
            raise KeyMismatch("an invoice for another customer or currency")
    except BaseException as exc:
        await store.abandon(owner, key, in_doubt=_in_doubt(exc, provider))
        raise
    await store.complete(owner, key, invoice.id)
    _note("created")
    return invoice


def _note(outcome: str) -> None:
    """What the idempotency key led to, for `gateway_idempotency_requests`."""
    record = current_record()
    if record is not None:
        record.idempotency = outcome


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
    if getattr(provider, "deduplicates_creates", False) or isinstance(exc, KeyMismatch):
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
