"""schema.graphql is generated, and the schema documents itself."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema
from graphql import build_schema as parse_sdl
from graphql.type import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from gateway.cli import main
from gateway.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_what_export_schema_prints(capsys) -> None:
    assert main(["export-schema"]) == 0
    printed = capsys.readouterr().out
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert printed == committed, (
        "schema.graphql drifted: run `invoice-gateway export-schema --output schema.graphql`"
    )


def test_export_schema_writes_the_file_with_output(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert parse_sdl(target.read_text(encoding="utf-8")).get_type("Invoice") is not None


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    schema: GraphQLSchema = build_schema()._schema
    missing: list[str] = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
        if isinstance(type_, GraphQLEnumType) and not type_.description:
            missing.append(name)
    assert missing == []


def test_the_schema_offers_every_flexprice_invoice_operation() -> None:
    schema = build_schema()._schema
    query = schema.query_type
    mutation = schema.mutation_type
    assert query is not None
    assert mutation is not None
    assert {
        "node",
        "invoice",
        "invoices",
        "customer",
        "customers",
        "providers",
        "invoicePreview",
    } <= set(query.fields)
    assert {
        "createInvoice",
        "updateInvoice",
        "finalizeInvoice",
        "voidInvoice",
        "updateInvoicePaymentStatus",
        "attemptInvoicePayment",
        "recalculateInvoice",
        "triggerInvoiceCommunication",
    } <= set(mutation.fields)
