"""The models of the current snapshot (/models): what is trained, when, and how well."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from c360_api.deps import OrgDep, QueryServiceDep
from c360_api.envelopes import object_envelope, row_model, rows_field, success_response
from c360_api.service import QueryService
from c360_api.snapshot_models import churn_model, model_statuses

router = APIRouter(prefix="/models", tags=["models"])

ModelStatusRow = row_model(
    "ModelStatusRow",
    [
        ("model", str, "churn, clv or clustering", "churn"),
        ("status", str, "`available` or `unavailable`", "available"),
        ("reason", str, "Why the model is unavailable (null when available)", None),
        ("snapshot_id", str, "The snapshot the model belongs to", "20260131T080000Z"),
        ("type", str, "gbt, logistic_regression, bgnbd+gamma_gamma, kmeans, ...", "gbt"),
        ("trained_at", str, "When it was trained (ISO 8601)", "2026-01-31T08:00:00+00:00"),
        ("parameters", dict[str, Any], "Its parameters, as the pipeline recorded them",
         {"max_depth": 5}),
        ("metrics", dict[str, Any], "Its evaluation, as the pipeline recorded it",
         {"model": {"roc_auc": 0.81}, "baseline": {"roc_auc": 0.74}}),
        ("details", dict[str, Any], "The manifest's whole section for the model", {"...": "..."}),
    ],
    doc="One model of the snapshot.",
)  # fmt: skip

STATUS_MESSAGE = "the current snapshot's models"
ModelsStatusResponse = object_envelope(
    "ModelsStatusResponse",
    [
        ("snapshot_id", str, "The current snapshot", "20260131T080000Z"),
        ("as_of", str, "Its as-of date", "2026-01-31"),
        rows_field("models", ModelStatusRow, "churn, clv and clustering, in that order"),
    ],
    STATUS_MESSAGE,
)


@router.get(
    "/status",
    response_model=ModelsStatusResponse,
    responses={503: {"description": "No snapshot is published for the organisation yet."}},
    summary="Type, training date, parameters and metrics of each model",
)
async def models_status(request: Request, service: QueryServiceDep, org: OrgDep) -> JSONResponse:
    """Churn, CLV and clustering models of the current snapshot: available or why not."""
    data = await run_in_threadpool(_statuses, service, org)
    request.state.snapshot_id = data["snapshot_id"]
    return success_response(data, STATUS_MESSAGE, headers={"X-Snapshot-ID": data["snapshot_id"]})


def _statuses(service: QueryService, org: str) -> dict[str, Any]:
    with service.engine.open(org) as db:
        snapshot = db.snapshot
        return {
            "snapshot_id": snapshot.snapshot_id,
            "as_of": snapshot.as_of,
            "models": model_statuses(snapshot, churn_model(db)),
        }
