"""Xendit's customers as domain customers: a Customer API record (`to_customer`), and the copy
an invoice embeds (`to_embedded_customer`)."""

from __future__ import annotations

from providers.errors import ProviderBadResponse
from providers.models import Customer
from providers.records import utc
from providers.xendit import wire
from providers.xendit.fields import PROVIDER, address_of, joined_name, metadata_of, text_of

__all__ = ["to_customer", "to_embedded_customer"]


def to_customer(customer: wire.Customer) -> Customer:
    """A Customer API record as a domain customer; raises `ProviderBadResponse` without an id.

    `external_id` is the merchant's `reference_id`; `name` the business name of a BUSINESS,
    else the individual's names; `address` the primary address (else the first).
    """
    if not customer.id:
        raise ProviderBadResponse(PROVIDER, "xendit returned a customer without an id")
    person = customer.individual_detail
    business = customer.business_detail
    personal = (
        joined_name(person.given_names, person.middle_name, person.surname) if person else None
    )
    business_name = text_of(business.business_name) if business else None
    # A BUSINESS is named by its business name; anyone else by their names, if any.
    name = business_name or personal if customer.type == "BUSINESS" else personal or business_name
    addresses = sorted(customer.addresses or (), key=lambda address: not address.is_primary)
    address = None
    if addresses:
        first = addresses[0]
        address = address_of(
            line1=first.street_line1,
            line2=first.street_line2,
            city=first.city,
            state=first.province_state,
            postal_code=first.postal_code,
            country=first.country,
        )
    return Customer(
        provider=PROVIDER,
        id=customer.id,
        external_id=text_of(customer.reference_id),
        name=name,
        email=text_of(customer.email),
        address=address,
        metadata=metadata_of(customer.metadata),
        created_at=utc(customer.created),
        raw_source=customer.origin,
    )


def to_embedded_customer(customer: wire.CustomerObject) -> Customer | None:
    """The customer embedded in an invoice, or None when it has no `id` to name it by.

    `external_id` is the object's `customer_id` when it differs from `id` (the merchant's
    reference, when one was sent).
    """
    if not customer.id:
        return None
    address = None
    if customer.addresses:
        first = customer.addresses[0]
        address = address_of(
            line1=first.street_line1,
            line2=first.street_line2,
            city=first.city,
            state=first.state or first.province,
            postal_code=first.postal_code,
            country=first.country,
        )
    return Customer(
        provider=PROVIDER,
        id=customer.id,
        external_id=text_of(customer.customer_id) if customer.customer_id != customer.id else None,
        name=joined_name(customer.given_names, customer.surname),
        email=text_of(customer.email),
        address=address,
        raw_source=customer.origin,
        complete=False,  # a copy made when the invoice was: no reference id, no created time
    )
