"""Admin: refresh jobs and service metrics (JSON), plus `/metrics` for Prometheus.

Everything here is the caller's organisation's: its refreshes and jobs, its requests, its
cache entries and its snapshot (the `admin` scope is checked where the router is included).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from c360_api.deps import JobsDep, OrgDep, QueryServiceDep, SettingsDep
from c360_api.envelopes import JobListResponse, JobResponse, success_response
from c360_api.errors import error_response
from c360_api.jobs import JobConflictError
from c360_api.metrics import PrometheusCollector, RequestMetrics
from c360_api.snapshots import data_orgs
from c360_pipeline.snapshots import last_run

router = APIRouter(prefix="/admin", tags=["admin"])
prometheus_router = APIRouter(tags=["admin"])

JobId = Annotated[
    str, Path(min_length=1, max_length=64, description="Job id from POST /admin/refresh-data.")
]


@router.post(
    "/refresh-data",
    status_code=202,
    response_model=JobResponse,
    responses={
        409: {"description": "A refresh of the organisation is already running, or it has no data."}
    },
    summary="Start a refresh (pipeline run)",
)
def refresh_data(
    jobs: JobsDep,
    org: OrgDep,
    settings: SettingsDep,
    force_refresh: Annotated[
        bool, Query(description="Rebuild even when the inputs have not changed since the last run.")
    ] = False,
) -> JSONResponse:
    """Start `c360-pipeline run` for the organisation as a background job (202 with its id)."""
    if org not in data_orgs(settings.data_dir):
        # An organisation made by open registration has nothing to build from: do not start
        # a Spark run only to watch it fail.
        return error_response(409, f"organisation {org!r} has no data area to refresh from yet")
    try:
        job = jobs.start(org, force=force_refresh)
    except JobConflictError as exc:
        return error_response(409, str(exc), details={"job_id": exc.job.job_id})
    return success_response(
        job.to_dict(),
        "refresh started; follow it at /admin/jobs/" + job.job_id,
        status_code=202,
        headers={"Location": f"/admin/jobs/{job.job_id}"},
    )


@router.get("/jobs", response_model=JobListResponse, summary="Refresh jobs")
def list_jobs(jobs: JobsDep, org: OrgDep) -> JSONResponse:
    """The organisation's refresh jobs, newest first."""
    return success_response([job.to_dict() for job in jobs.list(org)], "refresh jobs")


@router.get(
    "/jobs/{job_id}",
    response_model=JobResponse,
    responses={404: {"description": "No such job for this organisation."}},
    summary="One refresh job",
)
def get_job(jobs: JobsDep, org: OrgDep, job_id: JobId) -> JSONResponse:
    """A job's status, progress, log tail and resulting snapshot."""
    job = jobs.get(org, job_id)
    if job is None:
        return error_response(404, f"no refresh job {job_id!r} for this organisation")
    return success_response(job.to_dict(), f"refresh job {job.status}")


@router.get("/metrics", summary="Service metrics")
def metrics(
    request: Request, service: QueryServiceDep, settings: SettingsDep, org: OrgDep
) -> JSONResponse:
    """The organisation's requests and latency percentiles per endpoint, cache, snapshot age
    and last refresh."""
    request_metrics: RequestMetrics = request.app.state.metrics
    cache = service.cache.stats(org)
    return success_response(
        {
            "endpoints": request_metrics.snapshot(org),
            "cache": {
                "entries": cache.entries,
                "hits": cache.hits,
                "misses": cache.misses,
                "hit_ratio": cache.hit_ratio,
                "ttl_seconds": settings.cache_ttl_seconds,
            },
            "snapshot": _snapshot_info(service, org),
            "last_refresh": last_run(settings.data_dir, org),
        },
        "service metrics",
    )


@prometheus_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Prometheus metrics",
)
def prometheus_metrics(request: Request, service: QueryServiceDep, org: OrgDep) -> Response:
    """The organisation's request counters and latency, cache counters and snapshot age in
    Prometheus format."""

    def gauges() -> list[tuple[str, str, float | None]]:
        info = _snapshot_info(service, org)
        cache = service.cache.stats(org)
        return [
            ("c360_cache_hits", "Answer cache hits.", float(cache.hits)),
            ("c360_cache_misses", "Answer cache misses.", float(cache.misses)),
            ("c360_cache_entries", "Answers cached.", float(cache.entries)),
            ("c360_snapshot_age_seconds", "Age of the served snapshot.", info["age_seconds"]),
        ]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PrometheusCollector(request.app.state.metrics, gauges, org))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _snapshot_info(service: QueryServiceDep, org: str) -> dict[str, Any]:
    db = service.engine.current(org)
    if db is None:
        return {"snapshot_id": None, "as_of": None, "age_seconds": None}
    return {
        "snapshot_id": db.snapshot_id,
        "as_of": db.snapshot.as_of,
        "age_seconds": db.snapshot.age_seconds(),
    }
