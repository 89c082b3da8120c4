"""Print the body of `providers/currencies.py`'s `MINOR_UNITS` table from ISO 4217 List One.

Usage: python tools/iso4217_table.py list-one.xml

`list-one.xml` is the maintenance agency's published file (SIX Group, "ISO 4217 Currency
codes, List one", https://www.six-group.com/en/products-services/financial-information/data-standards.html),
also shipped unchanged as `iso4217/table.xml` in the PyPI package `iso4217`. Codes whose minor
unit is "N.A." (gold, SDR, testing, "no currency") are left out: they are not money an invoice
is made in.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> None:
    root = ET.parse(path).getroot()  # noqa: S314
    units: dict[str, int] = {}
    for entry in root.iter("CcyNtry"):
        code, minor = entry.findtext("Ccy"), entry.findtext("CcyMnrUnts")
        if code and minor and minor.isdigit():
            units[code] = int(minor)
    print(f"# ISO 4217 List One, published {root.get('Pblshd')}: {len(units)} codes.")
    for code in sorted(units):
        print(f'    "{code}": {units[code]},')


if __name__ == "__main__":
    main(sys.argv[1])
