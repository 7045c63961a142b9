"""Scoring with the snapshot's models (/api/v1/inference): churn propensity."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from c360_api.deps import OrgDep, QueryServiceDep
from c360_api.envelopes import (
    BODY_ERRORS,
    ErrorResponse,
    object_envelope,
    row_model,
    rows_field,
    success_response,
)
from c360_api.inference import FEATURES_QUERY, ChurnScoreRequest, score_churn

router = APIRouter(prefix="/api/v1/inference", tags=["inference"])

ChurnScoreRow = row_model(
    "ChurnScoreRow",
    [
        ("row", int, "Position of the customer id or feature row in the request", 0),
        ("customer_id", str, "The customer (null for a feature row)", "C000123"),
        ("churn_probability", float, "Probability of no purchase in the window (0–1)", 0.734),
        ("churn_risk_band", str, "The model's band: Low, Medium or High", "High"),
    ],
    doc="The churn score of one customer or feature row.",
)

SCORE_MESSAGE = "churn probabilities and risk bands"
ChurnScoreResponse = object_envelope(
    "ChurnScoreResponse",
    [
        ("model_type", str, "`gbt` or `logistic_regression`", "gbt"),
        ("snapshot_id", str, "The snapshot whose model (and features) scored", "20260131T080000Z"),
        ("as_of", str, "The snapshot's as-of date", "2026-01-31"),
        rows_field("scores", ChurnScoreRow, "One score per customer found or feature row"),
        ("not_found", list[str], "Requested customer ids the snapshot does not hold", ["C999"]),
    ],
    SCORE_MESSAGE,
)


@router.post(
    "/churn-score",
    response_model=ChurnScoreResponse,
    responses={
        **BODY_ERRORS,
        404: {"model": ErrorResponse, "description": "None of the customer ids is a customer."},
        409: {"model": ErrorResponse, "description": "The snapshot has no churn model."},
        503: {
            "model": ErrorResponse,
            "description": "No snapshot yet, or its churn model files are broken.",
        },
    },
    summary="Score churn propensity of customers or feature rows",
)
async def churn_score(
    request: Request, service: QueryServiceDep, org: OrgDep, body: ChurnScoreRequest
) -> JSONResponse:
    """Churn probability and risk band of customers of the snapshot or of feature rows."""
    if body.customer_ids is not None:
        request.state.query_name = "/".join(FEATURES_QUERY)
    data = await run_in_threadpool(score_churn, service, org, body)
    request.state.snapshot_id = data["snapshot_id"]
    return success_response(data, SCORE_MESSAGE, headers={"X-Snapshot-ID": data["snapshot_id"]})
