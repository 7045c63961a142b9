"""The models a snapshot carries: its churn model (loaded once per snapshot), the manifest's
model sections, and what a route says when a model is missing.

The manifest's `models` holds a section per model (`clv`, `churn`, `clustering`); a section may
be missing (a snapshot published before the model existed) or `{"skipped": reason}` (the
pipeline could not train it). Every key inside a section is passed through as it is, except the
few the API reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from c360_api.churn_scoring import CHURN_MODEL_FILE, ChurnModel, ChurnModelError, load_churn_model
from c360_api.engine import SnapshotDb
from c360_api.errors import ApiError
from c360_api.snapshots import PublishedSnapshot

log = structlog.get_logger(__name__)

MODEL_NAMES = ("churn", "clv", "clustering")


@dataclass(frozen=True)
class LoadedChurnModel:
    """A snapshot's churn model, or why there is none (`is_broken`: a file that is there but
    unusable, a server-side fault; otherwise the snapshot simply has no churn model)."""

    model: ChurnModel | None
    reason: str | None = None
    is_broken: bool = False

    def require(self, snapshot_id: str) -> ChurnModel:
        """The model, or the ApiError a scoring request gets: 409 without one, 503 when its file
        is broken."""
        if self.model is not None:
            return self.model
        if self.is_broken:
            raise ApiError(
                503,
                f"churn model unavailable: snapshot {snapshot_id} has an invalid "
                f"{CHURN_MODEL_FILE} (see the server log)",
            )
        raise ApiError(
            409,
            f"snapshot {snapshot_id} has no churn model: {self.reason}",
            details={"snapshot_id": snapshot_id},
        )


def model_section(snapshot: PublishedSnapshot, name: str) -> dict[str, Any] | None:
    """The manifest's section of one model (None when the snapshot has none)."""
    models = snapshot.manifest.get("models")
    section = models.get(name) if isinstance(models, dict) else None
    return section if isinstance(section, dict) else None


def unavailable_reason(snapshot: PublishedSnapshot, name: str) -> str | None:
    """Why the snapshot has no usable `name` model (None when its section is there)."""
    section = model_section(snapshot, name)
    if section is None:
        return f"the snapshot's manifest has no `{name}` model (published before it existed)"
    if "skipped" in section:
        return f"the pipeline skipped it: {section['skipped']}"
    return None


def read_churn_model(snapshot: PublishedSnapshot) -> LoadedChurnModel:
    """Load the snapshot's `models/churn.json` (an invalid file is logged as an error)."""
    path = snapshot.path / CHURN_MODEL_FILE
    try:
        model = load_churn_model(path)
    except FileNotFoundError:
        reason = unavailable_reason(snapshot, "churn") or f"{CHURN_MODEL_FILE} is missing"
        return LoadedChurnModel(None, reason)
    except (ChurnModelError, OSError, UnicodeDecodeError) as exc:
        log.error(
            "churn_model_invalid", snapshot_id=snapshot.snapshot_id, path=str(path), error=str(exc)
        )
        return LoadedChurnModel(None, f"{CHURN_MODEL_FILE} is invalid", is_broken=True)
    if model.spec.snapshot_id not in (None, snapshot.snapshot_id):
        log.warning(
            "churn_model_from_another_snapshot",
            snapshot_id=snapshot.snapshot_id,
            model_snapshot_id=model.spec.snapshot_id,
        )
    log.info("churn_model_loaded", snapshot_id=snapshot.snapshot_id, type=model.type)
    return LoadedChurnModel(model)


def churn_model(db: SnapshotDb) -> LoadedChurnModel:
    """The churn model of the snapshot `db` serves, loaded once per snapshot."""
    return db.derived("churn_model", read_churn_model)


def require_clustering(snapshot: PublishedSnapshot) -> dict[str, Any]:
    """The manifest's clustering section, or a 409 saying why the snapshot has none."""
    reason = unavailable_reason(snapshot, "clustering")
    section = model_section(snapshot, "clustering")
    if reason is not None or section is None:
        raise ApiError(
            409,
            f"snapshot {snapshot.snapshot_id} has no behavioural clusters: {reason}",
            details={"snapshot_id": snapshot.snapshot_id},
        )
    return section


def model_statuses(snapshot: PublishedSnapshot, churn: LoadedChurnModel) -> list[dict[str, Any]]:
    """Each model's status, type, training date, parameters and metrics (and its whole manifest
    section as `details`)."""
    return [_status(snapshot, name, churn) for name in MODEL_NAMES]


def _status(snapshot: PublishedSnapshot, name: str, churn: LoadedChurnModel) -> dict[str, Any]:
    section = model_section(snapshot, name) or {}
    reason = unavailable_reason(snapshot, name)
    if name == "churn" and reason is None and churn.model is None:
        reason = churn.reason
    status: dict[str, Any] = {
        "model": name,
        "status": "unavailable" if reason else "available",
        "reason": reason,
        "snapshot_id": snapshot.snapshot_id,
        "type": None,
        "trained_at": None,
        "parameters": None,
        "metrics": None,
        "details": section or None,
    }
    if reason:
        return status
    if name == "churn":
        status |= {
            "type": churn.model.type if churn.model else section.get("type"),
            "trained_at": section.get("trained_at"),
            "parameters": section.get("params"),
            "metrics": section.get("metrics"),
        }
    elif name == "clustering":
        status |= {
            "type": section.get("algorithm"),
            "trained_at": section.get("trained_at"),
            "parameters": {key: section[key] for key in ("k", "params") if key in section},
            # The scores' key is the pipeline's to name (one per algorithm and k, or a best).
            "metrics": {key: value for key, value in section.items() if "silhouette" in key},
        }
    else:
        status |= _clv_status(snapshot, section)
    return status


def _clv_status(snapshot: PublishedSnapshot, section: dict[str, Any]) -> dict[str, Any]:
    """BG/NBD and Gamma-Gamma are fitted while the snapshot is built: their training date is
    the snapshot's."""
    fits = {name: section.get(name) or {} for name in ("bgnbd", "gamma_gamma")}
    return {
        "type": "bgnbd+gamma_gamma",
        "trained_at": section.get("trained_at") or snapshot.manifest.get("created_at"),
        "parameters": {name: fit.get("params") for name, fit in fits.items()},
        "metrics": {
            **{f"{name}_log_likelihood": fit.get("log_likelihood") for name, fit in fits.items()},
            "holdout": section.get("holdout"),
        },
    }
