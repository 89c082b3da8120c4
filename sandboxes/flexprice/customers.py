"""``POST /customers``: binding, the server's go-playground rules, and creation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import errors
from .binding import JSONObject, opt_bool, opt_metadata, opt_objects, opt_str
from .records import Customer
from .store import FlexPriceSandbox

_STRUCT = "CreateCustomerRequest"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ISO_3166_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA2: frozenset[str] = frozenset(_ISO_3166_TEXT.split())
_MAX_LENGTHS = (
    ("Name", "name", 255),
    ("Contact", "contact", 20),
    ("AddressLine1", "address_line1", 255),
    ("AddressLine2", "address_line2", 255),
    ("AddressCity", "address_city", 100),
    ("AddressState", "address_state", 100),
    ("AddressPostalCode", "address_postal_code", 20),
)


@dataclass
class CreateCustomerInput:
    external_id: str
    name: str
    email: str
    contact: str
    address_line1: str
    address_line2: str
    address_city: str
    address_state: str
    address_postal_code: str
    address_country: str
    timezone: str
    metadata: dict[str, str]


def bind_create_customer(body: JSONObject) -> CreateCustomerInput:
    """``CreateCustomerRequest`` with JSON types checked (integration fields accepted, unused)."""
    opt_objects(body, "tax_rate_overrides")
    opt_objects(body, "integration_entity_mapping")
    opt_str(body, "onboarding_workflow_name")
    opt_bool(body, "skip_onboarding_workflow")
    return CreateCustomerInput(
        external_id=opt_str(body, "external_id") or "",
        name=opt_str(body, "name") or "",
        email=opt_str(body, "email") or "",
        contact=opt_str(body, "contact") or "",
        address_line1=opt_str(body, "address_line1") or "",
        address_line2=opt_str(body, "address_line2") or "",
        address_city=opt_str(body, "address_city") or "",
        address_state=opt_str(body, "address_state") or "",
        address_postal_code=opt_str(body, "address_postal_code") or "",
        address_country=opt_str(body, "address_country") or "",
        timezone=opt_str(body, "timezone") or "",
        metadata=opt_metadata(body, "metadata") or {},
    )


def _known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def validate_create_customer(inp: CreateCustomerInput) -> None:
    """Required, max-length, email, country and timezone rules, in the tag order."""
    missing = [
        name for name, value in (("ExternalID", inp.external_id), ("Name", inp.name)) if not value
    ]
    if missing:
        raise errors.required_fields(_STRUCT, missing)
    for name, attr, limit in _MAX_LENGTHS:
        if len(getattr(inp, attr)) > limit:
            raise errors.field_rule(_STRUCT, name, "max")
    if inp.email and not _EMAIL.match(inp.email):
        raise errors.field_rule(_STRUCT, "Email", "email")
    if inp.address_country and inp.address_country not in ISO_3166_ALPHA2:
        tag = "len" if len(inp.address_country) != 2 else "iso3166_1_alpha2"
        raise errors.field_rule(_STRUCT, "AddressCountry", tag)
    if inp.timezone and not _known_timezone(inp.timezone):
        raise errors.field_rule(_STRUCT, "Timezone", "timezone")


def create_customer(sb: FlexPriceSandbox, inp: CreateCustomerInput) -> Customer:
    """Store the customer; 409 ``already_exists`` when the external id is taken."""
    if sb.customer_by_external_id(inp.external_id) is not None:
        raise errors.already_exists("A customer with this identifier already exists")
    created = sb.stamp()
    customer = Customer(
        id=sb.new_id("cust", created),
        external_id=inp.external_id,
        name=inp.name,
        created_at=created,
        updated_at=created,
        email=inp.email,
        contact=inp.contact,
        address_line1=inp.address_line1,
        address_line2=inp.address_line2,
        address_city=inp.address_city,
        address_state=inp.address_state,
        address_postal_code=inp.address_postal_code,
        address_country=inp.address_country,
        timezone=inp.timezone or "UTC",
        metadata=dict(inp.metadata),
    )
    sb.customers[customer.id] = customer
    return customer
