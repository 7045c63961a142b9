"""`GET /health`: is a snapshot published, which one, and how old."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from c360_api.deps import SettingsDep
from c360_api.errors import error_response, utc_now_iso
from c360_api.snapshots import current_snapshot, no_snapshot_message

router = APIRouter(tags=["health"])


class HealthData(BaseModel):
    """What the service is serving."""

    status: str
    organization: str
    snapshot_id: str
    as_of: str | None
    snapshot_age_seconds: float | None


class HealthResponse(BaseModel):
    """Success envelope for /health."""

    success: bool
    message: str
    timestamp: str
    data: HealthData


@router.get(
    "/health", response_model=HealthResponse, responses={503: {"description": "no snapshot"}}
)
def health(settings: SettingsDep) -> HealthResponse | JSONResponse:
    """Report the published snapshot; 503 while none has been published."""
    snapshot = current_snapshot(settings.data_dir, settings.org)
    if snapshot is None:
        return error_response(503, no_snapshot_message(settings.org))
    age = snapshot.age_seconds()
    return HealthResponse(
        success=True,
        message="ok",
        timestamp=utc_now_iso(),
        data=HealthData(
            status="ok",
            organization=settings.org,
            snapshot_id=snapshot.snapshot_id,
            as_of=snapshot.as_of,
            snapshot_age_seconds=round(age, 1) if age is not None else None,
        ),
    )
