"""ISO 4217 currencies the sandbox accepts, and their minor-unit precision.

The real server only checks that a currency code has three characters; the sandbox also
requires a known ISO 4217 code (the gateway sends no other; same 400 ``validation_error``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Active ISO 4217 codes, minus precious metals, bond units and test codes.
_ISO_4217_TEXT = """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob bov brl bsd btn
    bwp byn bzd cad cdf che chf chw clf clp cny cop cou crc cuc cup cve czk djf dkk dop dzd egp
    ern etb eur fjd fkp gbp gel ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr iqd irr isk
    jmd jod jpy kes kgs khr kmf kpw krw kwd kyd kzt lak lbp lkr lrd lsl lyd mad mdl mga mkd mmk
    mnt mop mru mur mvr mwk mxn mxv myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln
    pyg qar ron rsd rub rwf sar sbd scr sdg sek sgd shp sle sll sos srd ssp stn svc syp szl thb
    tjs tmt tnd top try ttd twd tzs uah ugx usd usn uyi uyu uyw uzs ved ves vnd vuv wst xaf xcd
    xof xpf yer zar zmw zwg zwl
"""
ISO_4217: frozenset[str] = frozenset(_ISO_4217_TEXT.split())

_ZERO_DECIMALS = frozenset(("bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg"))
_ZERO_DECIMALS |= frozenset(("rwf", "ugx", "uyi", "vnd", "vuv", "xaf", "xof", "xpf"))
_THREE_DECIMALS = frozenset(("bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"))
_FOUR_DECIMALS = frozenset(("clf", "uyw"))


def is_known(code: str) -> bool:
    """True for a known ISO 4217 code in any letter case."""
    return code.lower() in ISO_4217


def precision(code: str) -> int:
    """Number of minor-unit digits of ``code`` (2 when unknown)."""
    lower = code.lower()
    if lower in _ZERO_DECIMALS:
        return 0
    if lower in _THREE_DECIMALS:
        return 3
    if lower in _FOUR_DECIMALS:
        return 4
    return 2


def round_amount(amount: Decimal, code: str) -> Decimal:
    """``amount`` rounded half-up to the currency's precision."""
    return amount.quantize(Decimal(1).scaleb(-precision(code)), rounding=ROUND_HALF_UP)
