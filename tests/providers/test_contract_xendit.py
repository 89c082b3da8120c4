"""Xendit passes the provider contract on its in-process sandbox."""

from __future__ import annotations

from .contract import SandboxContract


class TestXenditContract(SandboxContract):
    provider_name = "xendit"
    key_variable = "XENDIT_SECRET_KEY"
    unknown_customer_id = "cust-00000000-0000-4000-8000-000000000000"
