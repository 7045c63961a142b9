"""The raw data contract: canonical columns, types, required fields and header aliases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "date", "timestamp", "double", "int", "long"]


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a raw source."""

    name: str
    dtype: ColumnType
    required: bool = False


@dataclass(frozen=True)
class SourceSchema:
    """A raw source: its columns, unique key, header aliases and whether it names customers."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None
    aliases: dict[str, str] = field(default_factory=dict)
    references_customers: bool = True
    non_negative: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """Canonical column names in contract order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Columns a row cannot be used without."""
        return tuple(c.name for c in self.columns if c.required)

    def spec(self, name: str) -> ColumnSpec:
        """The spec of one canonical column."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _c(name: str, dtype: ColumnType = "string", required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, dtype, required)


TRANSACTIONS = SourceSchema(
    name="transactions",
    columns=(
        _c("transaction_id", required=True),
        _c("customer_id", required=True),
        _c("transaction_date", "date", required=True),
        _c("amount", "double", required=True),
        _c("product_id"),
        _c("category"),
        _c("quantity", "int"),
        _c("channel"),
        _c("store_id"),
        _c("region"),
    ),
    key="transaction_id",
    aliases={
        "invoice_id": "transaction_id",
        "invoice_no": "transaction_id",
        "invoice": "transaction_id",
        "order_id": "transaction_id",
        "txn_id": "transaction_id",
        "invoice_date": "transaction_date",
        "order_date": "transaction_date",
        "purchase_date": "transaction_date",
        "date": "transaction_date",
        "transaction_timestamp": "transaction_date",
        "timestamp": "transaction_date",
        "transaction_at": "transaction_date",
        "customer": "customer_id",
        "cust_id": "customer_id",
        "client_id": "customer_id",
        "total": "amount",
        "total_amount": "amount",
        "sales": "amount",
        "revenue": "amount",
        "value": "amount",
        "product": "product_id",
        "sku": "product_id",
        "qty": "quantity",
        "store": "store_id",
    },
    non_negative=("amount", "quantity"),
)

CUSTOMERS = SourceSchema(
    name="customers",
    columns=(
        _c("customer_id", required=True),
        _c("name"),
        _c("email"),
        _c("signup_date", "date"),
        _c("birth_date", "date"),
        _c("birth_year", "int"),
        _c("region"),
        _c("segment"),
        _c("status"),
    ),
    key="customer_id",
    aliases={
        "customer": "customer_id",
        "cust_id": "customer_id",
        "client_id": "customer_id",
        "full_name": "name",
        "customer_name": "name",
        "email_address": "email",
        "signup": "signup_date",
        "registration_date": "signup_date",
        "created_at": "signup_date",
        "date_of_birth": "birth_date",
        "dob": "birth_date",
        "customer_segment": "segment",
        "account_status": "status",
    },
    references_customers=False,
)

PRODUCTS = SourceSchema(
    name="products",
    columns=(
        _c("product_id", required=True),
        _c("name"),
        _c("category"),
        _c("brand"),
        _c("unit_price", "double"),
        _c("unit_cost", "double"),
    ),
    key="product_id",
    aliases={
        "product": "product_id",
        "sku": "product_id",
        "price": "unit_price",
        "cost": "unit_cost",
    },
    references_customers=False,
    non_negative=("unit_price", "unit_cost"),
)

LOYALTY = SourceSchema(
    name="loyalty",
    columns=(
        _c("customer_id", required=True),
        _c("tier"),
        _c("points", "long"),
        _c("enrolled_date", "date"),
    ),
    key="customer_id",
    aliases={"loyalty_tier": "tier", "loyalty_points": "points", "enrolled": "enrolled_date"},
)

SUPPORT_TICKETS = SourceSchema(
    name="support_tickets",
    columns=(
        _c("ticket_id", required=True),
        _c("customer_id", required=True),
        _c("opened_at", "timestamp", required=True),
        _c("closed_at", "timestamp"),
        _c("ticket_type"),
        _c("status"),
        _c("priority"),
        _c("satisfaction_score", "int"),
        _c("channel"),
    ),
    key="ticket_id",
    aliases={
        "id": "ticket_id",
        "created_at": "opened_at",
        "opened_date": "opened_at",
        "resolved_at": "closed_at",
        "closed_date": "closed_at",
        "type": "ticket_type",
        "category": "ticket_type",
        "csat": "satisfaction_score",
        "satisfaction": "satisfaction_score",
    },
)

INTERACTIONS = SourceSchema(
    name="interactions",
    columns=(
        _c("interaction_id", required=True),
        _c("customer_id", required=True),
        _c("interaction_type", required=True),
        _c("status", required=True),
        _c("interaction_at", "timestamp", required=True),
        _c("channel"),
        _c("duration_minutes", "int"),
    ),
    key="interaction_id",
    aliases={
        "id": "interaction_id",
        "type": "interaction_type",
        "interaction_date": "interaction_at",
        "date": "interaction_at",
        "timestamp": "interaction_at",
        "duration": "duration_minutes",
    },
)

DIGITAL_EVENTS = SourceSchema(
    name="digital_events",
    columns=(
        _c("customer_id", required=True),
        _c("event_date", "date", required=True),
        _c("channel", required=True),
        _c("event_type"),
        _c("session_count", "int"),
    ),
    key=None,
    aliases={"date": "event_date", "event_at": "event_date", "sessions": "session_count"},
    non_negative=("session_count",),
)

SOURCES: dict[str, SourceSchema] = {
    s.name: s
    for s in (
        TRANSACTIONS,
        CUSTOMERS,
        PRODUCTS,
        LOYALTY,
        SUPPORT_TICKETS,
        INTERACTIONS,
        DIGITAL_EVENTS,
    )
}
"""Every source of the data contract; only transactions is required."""

REQUIRED_SOURCES = ("transactions",)


def normalise_header(name: str) -> str:
    """Header name as compared with the contract, in snake case ('Invoice Date' -> invoice_date)."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_")
    cleaned = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cleaned)
    return cleaned.lower()


def map_columns(
    schema: SourceSchema, header: list[str], column_map: dict[str, str] | None = None
) -> dict[str, str]:
    """Map each raw header name to a canonical column (explicit map, then aliases, then name).

    Raw columns that map to nothing are left out. When two raw columns could fill the same
    canonical column the first claim wins, in the order: explicit map, exact name, alias.
    """
    explicit = {normalise_header(k): v for k, v in (column_map or {}).items()}
    canonical = set(schema.column_names)
    for target in explicit.values():
        if target not in canonical:
            raise ValueError(
                f"column map target {target!r} is not a {schema.name} column "
                f"(expected one of {', '.join(schema.column_names)})"
            )
    mapping: dict[str, str] = {}
    claimed: dict[str, str] = {}
    # Explicit mappings first, then exact canonical names, then aliases.
    exact = {c: c for c in canonical}
    for lookup in (explicit, exact, schema.aliases):
        for raw in header:
            if raw in mapping:
                continue
            found = lookup.get(normalise_header(raw))
            if found is None or found in claimed:
                continue
            mapping[raw] = found
            claimed[found] = raw
    return mapping
