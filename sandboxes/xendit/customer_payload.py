"""``CustomerRequest`` and ``PatchCustomer``: validated, then applied to a :class:`Customer`.

``reference_id`` is required on create (1-255 characters) and unique per business
(400 ``DUPLICATE_END_CUSTOMER_ERROR``). When ``type`` is sent, an INDIVIDUAL needs
``individual_detail.given_names`` and a BUSINESS ``business_detail.business_name``; without
it the type is inferred (BUSINESS when only ``business_detail`` is given). Request
addresses (``country_code``, ``line_1``, ``line_2``) are stored in the response shape
(``country``, ``street_line1``, ``street_line2``). Every other problem is 400
``API_VALIDATION_ERROR``.
"""

from __future__ import annotations

from . import binding, errors
from .binding import JSONObject
from .records import CUSTOMER_STATUSES, CUSTOMER_TYPES, Customer
from .store import XenditSandbox

_ADDRESS_RENAMES = (
    ("category", "category"),
    ("country_code", "country"),
    ("province_state", "province_state"),
    ("city", "city"),
    ("postal_code", "postal_code"),
    ("line_1", "street_line1"),
    ("line_2", "street_line2"),
)
_TEXT_FIELDS = ("email", "mobile_number", "phone_number", "client_name")


def _addresses(body: JSONObject) -> list[JSONObject] | None:
    raw = binding.opt_objects(body, "addresses")
    if raw is None:
        return None
    out: list[JSONObject] = []
    for address in raw:
        item: JSONObject = {new: binding.opt_str(address, old) for old, new in _ADDRESS_RENAMES}
        item["is_primary"] = binding.opt_bool(address, "is_primary") or False
        item["status"] = binding.opt_str(address, "status") or "ACTIVE"
        out.append(item)
    return out


def _check_type(customer: Customer) -> None:
    if customer.type == "INDIVIDUAL" and not customer.individual_detail.get("given_names"):
        raise errors.validation('"individual_detail.given_names" is required for INDIVIDUAL')
    if customer.type == "BUSINESS" and not customer.business_detail.get("business_name"):
        raise errors.validation('"business_detail.business_name" is required for BUSINESS')


def _apply(customer: Customer, body: JSONObject) -> None:
    """Set every field present in ``body``; ``null`` clears a nullable field."""
    kind = binding.opt_str(body, "type")
    if kind is not None:
        if kind not in CUSTOMER_TYPES:
            raise errors.validation(f'"type" must be one of {", ".join(CUSTOMER_TYPES)}')
        customer.type = kind
    for key in ("individual_detail", "business_detail"):
        detail = binding.opt_object(body, key)
        if detail is not None:
            setattr(customer, key, dict(detail))
    if "description" in body:
        customer.description = binding.opt_str(body, "description", max_length=1000)
    for key in _TEXT_FIELDS:
        if key in body:
            setattr(customer, key, binding.opt_str(body, key))
    if customer.email is not None and not binding.is_email(customer.email):
        raise errors.validation('"email" must be a valid email')
    if "addresses" in body:
        customer.addresses = _addresses(body)
    for key in ("identity_accounts", "kyc_documents"):
        if key in body:
            setattr(customer, key, binding.opt_objects(body, key))
    if "metadata" in body:
        customer.metadata = binding.opt_object(body, "metadata")
    status = binding.opt_str(body, "status")
    if status is not None:
        if status not in CUSTOMER_STATUSES:
            raise errors.validation(f'"status" must be one of {", ".join(CUSTOMER_STATUSES)}')
        customer.status = status
    if kind is not None:
        _check_type(customer)


def _unique(sb: XenditSandbox, user_id: str, reference_id: str, own_id: str | None) -> None:
    existing = sb.customer_by_reference(user_id, reference_id)
    if existing is not None and existing.id != own_id:
        raise errors.bad_request(
            "DUPLICATE_END_CUSTOMER_ERROR",
            f"A customer with reference_id {reference_id} already exists",
        )


def create_customer(sb: XenditSandbox, user_id: str, body: JSONObject) -> Customer:
    """Validate ``body`` and store a new ACTIVE customer of ``user_id``."""
    reference_id = binding.req_str(body, "reference_id", max_length=255)
    now = sb.now()
    customer = Customer(
        id=sb.customer_id(),
        user_id=user_id,
        reference_id=reference_id,
        created=now,
        updated=now,
        type="BUSINESS" if body.get("business_detail") and not body.get("type") else "INDIVIDUAL",
    )
    _apply(customer, body)
    _unique(sb, user_id, reference_id, None)
    sb.customers[customer.id] = customer
    return customer


def update_customer(sb: XenditSandbox, customer: Customer, body: JSONObject) -> None:
    """Apply a ``PatchCustomer`` body; the record changes only if all of it is valid."""
    draft = Customer(**vars(customer))
    reference_id = binding.opt_str(body, "reference_id", max_length=255)
    if reference_id is not None:
        if not reference_id.strip():
            raise errors.validation('"reference_id" is not allowed to be empty')
        _unique(sb, customer.user_id, reference_id, customer.id)
        draft.reference_id = reference_id
    _apply(draft, body)
    draft.updated = sb.now()
    for key, value in vars(draft).items():
        setattr(customer, key, value)
