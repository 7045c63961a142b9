"""Churn scoring requests: customers of the snapshot (their stored features) or feature rows
sent by the client, scored by the snapshot's exported model without a JVM."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from c360_api.churn_scoring import ChurnModel
from c360_api.errors import ApiError
from c360_api.service import QueryCall, QueryService
from c360_api.snapshot_models import churn_model

log = structlog.get_logger(__name__)

MAX_ROWS = 1000
FEATURES_QUERY = ("inference", "churn_features")

CustomerIdItem = Annotated[str, StringConstraints(min_length=1, max_length=128)]
FeatureName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
FeatureValue = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
FeatureRow = Annotated[dict[FeatureName, FeatureValue | None], Field(max_length=200)]


def _one_of_two_lists(schema: dict[str, Any]) -> None:
    """The schema says what the validator enforces: one of the two keys, a list (a null is
    accepted as absent, but documented as such it would invite sending both)."""
    for name in ("customer_ids", "features"):
        field = schema["properties"][name]
        field.pop("default", None)
        field |= next(option for option in field.pop("anyOf") if option.get("type") != "null")
    schema["oneOf"] = [{"required": ["customer_ids"]}, {"required": ["features"]}]


class ChurnScoreRequest(BaseModel):
    """Exactly one of `customer_ids` (customers of the current snapshot) or `features` (rows
    of raw feature values; a feature left out or null takes the model's fill value)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_two_lists)

    customer_ids: list[CustomerIdItem] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ROWS,
        description=f"Customer ids to score from the snapshot (1 to {MAX_ROWS}).",
        examples=[["C000123", "C000456"]],
    )
    features: list[FeatureRow] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ROWS,
        description=(
            f"Rows to score (1 to {MAX_ROWS}): `{{feature: value}}` with the model's feature "
            "names (GET /models/status lists them), finite and not negative; a feature left out "
            "or null takes its fill value."
        ),
        examples=[[{"recency_days": 12, "frequency": 4, "monetary": 85.5}]],
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ChurnScoreRequest:
        if (self.customer_ids is None) == (self.features is None):
            raise ValueError("send exactly one of `customer_ids` or `features`")
        return self


def score_churn(service: QueryService, org: str, request: ChurnScoreRequest) -> dict[str, Any]:
    """The scores of a request on the organisation's current snapshot (blocking: run it in the
    thread pool). ApiError: 409 without a churn model, 503 with a broken one, 422 for unknown
    feature names, 404 when none of the customers is in the snapshot."""
    with service.engine.open(org) as db:
        model = churn_model(db).require(db.snapshot_id)
        if request.features is not None:
            check_feature_names(model, request.features)
            scores = _scores(model, request.features, range(len(request.features)))
            not_found: list[str] = []
        else:
            assert request.customer_ids is not None
            positions: dict[str, int] = {}
            for position, customer_id in enumerate(request.customer_ids):
                positions.setdefault(customer_id, position)
            answer = service.fetch(db, QueryCall(FEATURES_QUERY, {"customer_ids": list(positions)}))
            _check_stored_features(model, answer.columns, db.snapshot_id)
            stored = {record["customer_id"]: record for record in answer.records()}
            found = [customer_id for customer_id in positions if customer_id in stored]
            not_found = [customer_id for customer_id in positions if customer_id not in stored]
            if not found:
                raise ApiError(
                    404,
                    f"none of the {len(positions)} customer id(s) is in snapshot {db.snapshot_id}",
                    details={"not_found": not_found},
                )
            scores = _scores(
                model,
                [stored[customer_id] for customer_id in found],
                [positions[customer_id] for customer_id in found],
                found,
            )
        return {
            "model_type": model.type,
            "snapshot_id": db.snapshot_id,
            "as_of": db.snapshot.as_of,
            "scores": scores,
            "not_found": not_found,
        }


def check_feature_names(model: ChurnModel, rows: Sequence[Mapping[str, Any]]) -> None:
    """A 422 naming every feature the model does not know (and where it was sent)."""
    known = set(model.feature_names)
    fields = [
        {"field": f"features.{index}.{name}", "message": "not a feature of the churn model"}
        for index, row in enumerate(rows)
        for name in row
        if name not in known
    ]
    if fields:
        unknown = sorted({field["field"].split(".", 2)[2] for field in fields})
        raise ApiError(
            422,
            f"unknown feature(s) {', '.join(unknown)}; the churn model's features are "
            f"{', '.join(model.feature_names)}",
            details={"fields": fields, "unknown_features": unknown},
        )


def _check_stored_features(model: ChurnModel, columns: Sequence[str], snapshot_id: str) -> None:
    """The snapshot's churn_features holds every model feature (else the snapshot is broken:
    scoring with fill values in their place would answer wrong numbers)."""
    missing = [name for name in model.feature_names if name not in columns]
    if missing:
        log.error("churn_features_incomplete", snapshot_id=snapshot_id, missing=missing)
        raise ApiError(
            503,
            f"churn model unavailable: snapshot {snapshot_id}'s churn_features table lacks "
            f"{', '.join(missing)} (see the server log)",
        )


def _scores(
    model: ChurnModel,
    values: Sequence[Mapping[str, Any]],
    positions: Sequence[int],
    customer_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One score per row: its position in the request, customer id (None for a feature row),
    probability and band (both None only if the stored features cannot be scored)."""
    probabilities = model.score(values)
    bands = model.bands(probabilities)
    return [
        {
            "row": position,
            "customer_id": customer_ids[index] if customer_ids is not None else None,
            "churn_probability": float(p) if math.isfinite(p) else None,
            "churn_risk_band": bands[index],
        }
        for index, (position, p) in enumerate(zip(positions, probabilities, strict=True))
    ]
