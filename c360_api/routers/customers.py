"""Customer by customer (/api/v1/customers): the directory, one customer's full 360 profile
and their purchase history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from c360_api.deps import OrgDep, PagedQueryDep, QueryServiceDep, check_range
from c360_api.envelopes import Column, envelope
from c360_api.params import IsoDate
from c360_api.routers.analytics import PROFILES
from c360_api.routers.team_route import responses_for
from c360_api.service import (
    QueryAnswer,
    QueryCall,
    SortOrder,
    object_renderer,
    page_renderer,
)

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

SortDirection = Literal["asc", "desc"]

DIRECTORY = PROFILES  # a directory row is the customer-profiles row

TRANSACTIONS: list[Column] = [
    ("transaction_id", str, "Transaction key", "T000000123"),
    ("transaction_date", date, "Purchase date", date(2025, 12, 28)),
    ("category", str, "Product category (null when unknown)", "Electronics"),
    ("product_id", str, "Product key", "P0042"),
    ("quantity", int, "Units", 2),
    ("amount", float, "Amount paid", 249.9),
    ("channel", str, "Sales channel", "online"),
    ("store_id", str, "Store key (store sales)", None),
    ("region", str, "Region of the sale", "North"),
]

DIRECTORY_MESSAGE = "customers matching the search and filters"
DirectoryResponse = envelope(
    "CustomerDirectoryResponse", DIRECTORY, DIRECTORY_MESSAGE, numbered=True
)
TransactionsResponse = envelope(
    "CustomerTransactionsResponse", TRANSACTIONS, "customer C000123's transactions", numbered=True
)

# The directory sorts on these columns (the value names the column; the Literal is the whitelist
# FastAPI enforces, and SortOrder accepts nothing but a plain identifier).
DirectorySort = Literal[
    "customer_id", "customer_name", "total_spent", "orders", "last_purchase_date",
    "customer_health_score", "predicted_clv_12m",
]  # fmt: skip
TRANSACTION_SORTS: dict[str, str] = {"date": "transaction_date", "amount": "amount"}


class DirectoryFilters(BaseModel):
    """The directory's search, filters and sort (query parameters); a filter left out keeps
    every customer, a categorical one matches its value exactly."""

    model_config = ConfigDict(allow_inf_nan=False)  # a NaN bound is a mistake, not a filter

    search: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Case-insensitive substring of the customer id, name or email.",
    )
    segment: str | None = Field(
        None, max_length=100, description="Only this customer segment (`customer_segment`)."
    )
    rfm_segment: str | None = Field(None, max_length=100, description="Only this RFM segment.")
    loyalty_tier: str | None = Field(None, max_length=100, description="Only this loyalty tier.")
    customer_status: str | None = Field(
        None, max_length=100, description="Only this status (Active, At Risk, Churned, New)."
    )
    lifecycle_stage: str | None = Field(
        None, max_length=100, description="Only this lifecycle stage."
    )
    region: str | None = Field(None, max_length=100, description="Only this region.")
    generation: str | None = Field(None, max_length=100, description="Only this generation.")
    min_total_spent: float | None = Field(None, description="Lifetime spend at least this.")
    max_total_spent: float | None = Field(None, description="Lifetime spend at most this.")
    min_health_score: float | None = Field(
        None, ge=1, le=5, description="Health score (1–5) at least this."
    )
    max_health_score: float | None = Field(
        None, ge=1, le=5, description="Health score (1–5) at most this."
    )
    sort: DirectorySort = Field(
        "customer_id", description="Column to sort on (ties broken by customer_id)."
    )
    order: SortDirection = Field("asc", description="`asc` or `desc` (nulls last either way).")

    def parameters(self) -> dict[str, Any]:
        """The bound parameters of `customers/customer_directory.sql`."""
        return {
            "search": self.search,
            "customer_segment": self.segment,
            "rfm_segment": self.rfm_segment,
            "loyalty_tier": self.loyalty_tier,
            "customer_status": self.customer_status,
            "lifecycle_stage": self.lifecycle_stage,
            "region": self.region,
            "generation": self.generation,
            "min_total_spent": self.min_total_spent,
            "max_total_spent": self.max_total_spent,
            "min_health_score": self.min_health_score,
            "max_health_score": self.max_health_score,
        }


class TransactionFilters(BaseModel):
    """A purchase history's filters and sort (query parameters); a filter left out keeps every
    transaction."""

    model_config = ConfigDict(allow_inf_nan=False)

    start_date: IsoDate | None = Field(None, description="Purchases on or after this date.")
    end_date: IsoDate | None = Field(None, description="Purchases on or before this date.")
    category: str | None = Field(None, max_length=100, description="Only this category.")
    channel: str | None = Field(None, max_length=100, description="Only this channel.")
    min_amount: float | None = Field(None, description="Amount at least this.")
    max_amount: float | None = Field(None, description="Amount at most this.")
    sort: Literal["date", "amount"] = Field(
        "date", description="`date` or `amount` (ties broken by transaction_id)."
    )
    order: SortDirection = Field("desc", description="`desc` (default: newest first) or `asc`.")


# The profile's sections, in the order of docs/tables.md; every customer_360 column but the
# key belongs to exactly one (a test checks this against the snapshot schema).
SECTIONS: dict[str, tuple[str, ...]] = {
    "profile": (
        "customer_name", "email", "region", "customer_segment", "signup_date", "tenure_days",
        "birth_year", "generation", "account_status",
    ),
    "purchasing": (
        "first_purchase_date", "last_purchase_date", "orders", "purchase_days", "total_spent",
        "avg_order_value", "favourite_category", "channels_used", "channel_count",
        "revenue_12m", "revenue_90d", "revenue_prev_90d",
    ),
    "rfm": (
        "recency_days", "frequency", "recency_weeks", "t_weeks", "monetary", "r_score",
        "f_score", "m_score", "rfm_score", "rfm_segment",
    ),
    "clv": (
        "historic_clv", "historic_gross_margin", "p_alive", "expected_purchases_12m",
        "expected_avg_value", "predicted_clv_12m",
    ),
    "health": ("customer_health_score", "customer_status", "risk_status"),
    "churn": ("churn_probability", "churn_risk_band"),
    "cluster": ("cluster_id", "cluster_label"),
    "loyalty": (
        "loyalty_tier", "loyalty_points", "is_loyalty_member", "next_loyalty_tier",
        "spend_to_next_tier",
    ),
    "lifecycle": ("lifecycle_stage",),
    "engagement": (
        "app_sessions_30d", "web_sessions_30d", "app_sessions_90d", "web_sessions_90d",
        "last_digital_date", "is_app_adopter",
    ),
    "support": ("tickets_total", "open_tickets", "avg_satisfaction", "avg_resolution_hours"),
    "interactions": (
        "interactions_total", "call_count", "email_count", "meeting_count",
        "support_ticket_count", "complaint_count", "feedback_count", "interactions_pending",
        "interactions_in_progress", "interactions_completed", "interactions_cancelled",
        "complaints_90d", "last_interaction_at",
    ),
    "profitability": ("gross_margin", "service_cost", "net_contribution"),
}  # fmt: skip

DETAIL_EXAMPLE = {
    "success": True,
    "message": "customer C000123",
    "timestamp": "2026-01-31T08:00:00.000Z",
    "data": {
        "customer_id": "C000123",
        "profile": {"customer_name": "Ada Lovelace", "generation": "Gen X", "...": "..."},
        "purchasing": {"orders": 54, "total_spent": 6120.4, "...": "..."},
        "rfm": {"rfm_segment": "Champions", "...": "..."},
        "clv": {"p_alive": 0.98, "predicted_clv_12m": 2100.5, "...": "..."},
        "health": {"customer_health_score": 4.62, "customer_status": "Active", "...": "..."},
        "churn": {"churn_probability": 0.08, "churn_risk_band": "Low"},
        "cluster": {"cluster_id": 0, "cluster_label": "Loyal High Spenders"},
        "...": "...",
    },
}


def sectioned(row: dict[str, Any]) -> dict[str, Any]:
    """A customer_360 row as `{customer_id, <section>: {column: value}}`."""
    return {
        "customer_id": row["customer_id"],
        **{
            name: {column: row.get(column) for column in columns}
            for name, columns in SECTIONS.items()
        },
    }


def _profile(answers: Sequence[QueryAnswer]) -> dict[str, Any] | None:
    row = answers[0].first_record()
    return sectioned(row) if row is not None else None


CustomerId = Annotated[
    str, Path(min_length=1, max_length=128, description="The customer's id, as in the source.")
]


@router.get(
    "",
    response_model=DirectoryResponse,
    responses=responses_for(DirectoryResponse, DIRECTORY),
    summary="Customer directory: search, filter, sort and page",
)
async def customer_directory(
    request: Request, paged: PagedQueryDep, filters: Annotated[DirectoryFilters, Query()]
) -> Response:
    """Customers matching a search over id, name and email and the filters, in the chosen
    order, a numbered page at a time (`total` and `pages` count the whole answer)."""
    check_range(
        "min_total_spent", filters.min_total_spent, "max_total_spent", filters.max_total_spent
    )
    check_range(
        "min_health_score", filters.min_health_score, "max_health_score", filters.max_health_score
    )
    return await paged.respond(
        request,
        ("customers", "customer_directory"),
        filters.parameters(),
        DIRECTORY_MESSAGE,
        order=SortOrder(filters.sort, filters.order == "desc", tie_breaker="customer_id"),
    )


@router.get(
    "/{customer_id}",
    summary="One customer's full 360 profile",
    responses={
        200: {"content": {"application/json": {"example": DETAIL_EXAMPLE}}},
        404: {"description": "No customer with this id in the current snapshot."},
        503: {"description": "No snapshot is published for the organisation yet."},
    },
)
async def customer_detail(
    request: Request, service: QueryServiceDep, org: OrgDep, customer_id: CustomerId
) -> Response:
    """Profile, purchasing, RFM, CLV and P(alive), health and churn risk, churn model score,
    behavioural cluster, loyalty, lifecycle, engagement, support, interactions and
    profitability of one customer."""
    return await service.respond(
        request,
        org,
        [QueryCall(("customers", "customer_detail"), {"customer_id": customer_id})],
        object_renderer(f"customer {customer_id}", _profile),
        not_found=unknown_customer(customer_id),
    )


@router.get(
    "/{customer_id}/transactions",
    response_model=TransactionsResponse,
    responses={
        **responses_for(TransactionsResponse, TRANSACTIONS),
        404: {"description": "No customer with this id in the current snapshot."},
    },
    summary="One customer's purchase history",
)
async def customer_transactions(
    request: Request,
    paged: PagedQueryDep,
    customer_id: CustomerId,
    filters: Annotated[TransactionFilters, Query()],
) -> Response:
    """A customer's transactions within a date range, category, channel and amount range, by
    date or amount, a numbered page at a time (an empty page for a customer without any)."""
    check_range("start_date", filters.start_date, "end_date", filters.end_date)
    check_range("min_amount", filters.min_amount, "max_amount", filters.max_amount)
    parameters = {
        "customer_id": customer_id,
        **filters.model_dump(exclude={"sort", "order"}),
    }
    order = SortOrder(
        TRANSACTION_SORTS[filters.sort], filters.order == "desc", tie_breaker="transaction_id"
    )
    return await paged.service.respond(
        request,
        paged.org,
        [
            QueryCall(
                ("customers", "customer_transactions"), parameters, paged.page, order, small=True
            )
        ],
        page_renderer(
            paged.page, paged.output, f"customer {customer_id}'s transactions", "transactions"
        ),
        output=paged.output,
        not_found=unknown_customer(customer_id),
        exists=QueryCall(("customers", "customer_memberships"), {"customer_id": customer_id}),
    )


def unknown_customer(customer_id: str) -> str:
    """The 404 message for a customer id the current snapshot does not hold."""
    return f"no customer {customer_id!r} in the current snapshot"
