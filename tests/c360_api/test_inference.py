"""POST /api/v1/inference/churn-score and GET /models/status over hand-built snapshots; the
scores are checked against a plain-Python reading of the model file (no numpy)."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from c360_api.app import create_app
from tests.c360_api.conftest import (
    CHURN_FEATURES,
    CHURN_GBT,
    CHURN_LR,
    MANIFEST_MODELS,
    ORG,
    SNAPSHOT_ID,
    TABLES,
    authorised_client,
    make_settings,
)
from tests.c360_api.snapshot_builder import write_snapshot
from tests.c360_api.test_health import assert_error_envelope
from tests.c360_api.test_snapshot_swap import serving

URL = "/api/v1/inference/churn-score"
MODEL_COLUMNS = (
    "customer_360.churn_probability",
    "customer_360.churn_risk_band",
    "customer_360.cluster_id",
    "customer_360.cluster_label",
)


def reference_probability(spec: dict[str, Any], row: dict[str, Any]) -> float:
    """The model file read literally: fill, transform, then the regression or the trees."""
    x = []
    for feature in spec["features"]:
        value = row.get(feature["name"])
        value = feature["fill"] if value is None else value
        x.append(math.log1p(value) if feature["transform"] == "log1p" else value)
    if spec["type"] == "logistic_regression":
        regression = spec["logistic_regression"]
        z = regression["intercept"] + sum(
            c * v for c, v in zip(regression["coefficients"], x, strict=True)
        )
        return 1 / (1 + math.exp(-z))
    margin = 0.0
    for tree in spec["gbt"]["trees"]:
        node = tree["nodes"][0]
        while "leaf" not in node:
            go_left = x[node["feature"]] <= node["threshold"]
            node = tree["nodes"][node["left"] if go_left else node["right"]]
        margin += tree["weight"] * node["leaf"]
    return 1 / (1 + math.exp(-2 * margin))


def reference_band(p: float) -> str:
    return "Low" if p < 0.3 else "Medium" if p < 0.6 else "High"


def publish(data_dir: Path, snapshot_id: str = SNAPSHOT_ID, **kwargs: Any) -> None:
    """Write and publish a snapshot of the test tables (the conftest models unless told)."""
    kwargs.setdefault("models", MANIFEST_MODELS)
    kwargs.setdefault("model_files", {"churn.json": CHURN_GBT})
    write_snapshot(data_dir, ORG, snapshot_id, TABLES, **kwargs)


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Any]:
    """Build a client over a snapshot published with the given `write_snapshot` options."""
    clients: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        data_dir = tmp_path / f"data{len(clients)}"
        publish(data_dir, **kwargs)
        client = authorised_client(create_app(make_settings(data_dir)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


FEATURES_BY_ID = {row["customer_id"]: row for row in CHURN_FEATURES}


@pytest.mark.parametrize("spec", [CHURN_GBT, CHURN_LR], ids=["gbt", "lr"])
def test_customers_are_scored_from_their_stored_features(make_client: Any, spec: Any) -> None:
    client = make_client(model_files={"churn.json": spec})
    ids = ["C08", "C01", "C99", "C07", "C01", "C02", "C03", "C04", "C05", "C06"]
    response = client.post(URL, json={"customer_ids": ids})
    assert response.status_code == 200, response.text
    assert response.headers["x-snapshot-id"] == SNAPSHOT_ID
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert (data["model_type"], data["snapshot_id"], data["as_of"]) == (
        spec["type"], SNAPSHOT_ID, "2025-12-31",
    )  # fmt: skip
    # C99 is unknown and C07 has no purchase (no features): both not found; C01 once.
    assert data["not_found"] == ["C99", "C07"]
    scored = ["C08", "C01", "C02", "C03", "C04", "C05", "C06"]
    assert [score["customer_id"] for score in data["scores"]] == scored
    assert [score["row"] for score in data["scores"]] == [0, 1, 5, 6, 7, 8, 9]
    for score in data["scores"]:
        wanted = reference_probability(spec, FEATURES_BY_ID[score["customer_id"]])
        assert score["churn_probability"] == pytest.approx(wanted, abs=1e-9), score
        assert score["churn_risk_band"] == reference_band(wanted), score
    # The fixture covers every band and both kinds of missing value.
    assert {score["churn_risk_band"] for score in data["scores"]} >= {"Low", "High"}


def test_feature_rows_are_scored_with_fills_for_what_is_missing(client: TestClient) -> None:
    rows: list[dict[str, Any]] = [
        {"recency_days": 3, "frequency": 5, "monetary": 800, "tenure_days": 700,
         "app_sessions_90d": 10},
        {},
        {"recency_days": 12, "monetary": None},
        {"recency_days": 400, "frequency": 3, "monetary": 700, "tenure_days": 365},
    ]  # fmt: skip
    response = client.post(URL, json={"features": rows})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["not_found"] == []
    assert [score["row"] for score in data["scores"]] == [0, 1, 2, 3]
    assert all(score["customer_id"] is None for score in data["scores"])
    probabilities = [score["churn_probability"] for score in data["scores"]]
    hand = [
        1 / (1 + math.exp(-2 * (-0.6 - 0.25))),
        1 / (1 + math.exp(-2 * (0.7 + 0.2))),
        1 / (1 + math.exp(-2 * (0.1 + 0.2))),
        1 / (1 + math.exp(-2 * (0.3 - 0.1))),
    ]
    assert probabilities == pytest.approx(hand, abs=1e-9)
    assert [score["churn_risk_band"] for score in data["scores"]] == [
        "Low", "High", "High", "Medium",
    ]  # fmt: skip


def test_the_largest_payload_fits_the_default_body_limit(client: TestClient) -> None:
    """1000 rows (the most a request may send) of the pipeline's 15 features, with realistic
    numbers, are within the default `C360_MAX_BODY_BYTES`."""
    names = ["recency_days", "purchase_days", "orders", "total_spent", "avg_order_value",
             "days_since_first_purchase", "revenue_90d", "revenue_prev_90d", "revenue_12m",
             "sessions_30d", "sessions_90d", "tickets_total", "tickets_90d", "avg_satisfaction",
             "complaints_90d"]  # fmt: skip
    row = dict.fromkeys(names, 12345.678901234)
    body = {"features": [row] * 1000}
    # The test model knows other features: a 422 naming them, not a 413, proves the size fits.
    response = client.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert "unknown_features" in response.json()["error_details"]


def test_none_of_the_customers_found_is_a_404(client: TestClient) -> None:
    response = client.post(URL, json={"customer_ids": ["C99", "C07"]})
    assert response.status_code == 404
    body = response.json()
    assert_error_envelope(body, 404, "not_found")
    assert body["error_details"]["not_found"] == ["C99", "C07"]


INVALID: dict[str, tuple[Any, str]] = {
    "neither key": ({}, "exactly one of"),
    "both keys": ({"customer_ids": ["C01"], "features": [{}]}, "exactly one of"),
    "both, one null": ({"customer_ids": None, "features": None}, "exactly one of"),
    "unknown key": ({"ids": ["C01"]}, "ids"),
    "empty ids": ({"customer_ids": []}, "customer_ids"),
    "empty features": ({"features": []}, "features"),
    "too many ids": ({"customer_ids": [f"C{i}" for i in range(1001)]}, "customer_ids"),
    "too many rows": ({"features": [{}] * 1001}, "features"),
    "ids not a list": ({"customer_ids": "C01"}, "customer_ids"),
    "id not a string": ({"customer_ids": [1]}, "customer_ids.0"),
    "empty id": ({"customer_ids": [""]}, "customer_ids.0"),
    "row not an object": ({"features": [[1, 2]]}, "features.0"),
    "value a string": ({"features": [{"recency_days": "12"}]}, "features.0.recency_days"),
    "value a boolean": ({"features": [{"frequency": True}]}, "features.0.frequency"),
    "negative value": ({"features": [{"monetary": -1}]}, "features.0.monetary"),
    "body a list": (["C01"], "body"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_a_malformed_request_is_a_422_naming_the_problem(client: TestClient, case: str) -> None:
    payload, field = INVALID[case]
    response = client.post(URL, json=payload)
    assert response.status_code == 422, response.text
    body = response.json()
    assert_error_envelope(body, 422, "validation_error")
    names = [item["field"] for item in body["error_details"]["fields"]]
    messages = " ".join(item["message"] for item in body["error_details"]["fields"])
    assert field in names or field in messages, body


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_value_is_a_422(client: TestClient, text: str) -> None:
    response = client.post(
        URL,
        content='{"features": [{"recency_days": ' + text + "}]}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    fields = response.json()["error_details"]["fields"]
    assert fields[0]["field"] == "features.0.recency_days"


def test_unknown_feature_names_are_a_422_naming_them(client: TestClient) -> None:
    response = client.post(
        URL, json={"features": [{"recency_days": 1}, {"recency": 1, "spend": 2, "frequency": 1}]}
    )
    assert response.status_code == 422
    body = response.json()
    assert_error_envelope(body, 422, "validation_error")
    assert body["error_details"]["unknown_features"] == ["recency", "spend"]
    assert [field["field"] for field in body["error_details"]["fields"]] == [
        "features.1.recency", "features.1.spend",
    ]  # fmt: skip
    assert "recency, spend" in body["error_message"]
    assert "recency_days, frequency, monetary" in body["error_message"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"models": None, "model_files": None, "exclude": (*MODEL_COLUMNS, "churn_features")},
         "published before it existed"),
        ({"models": {**MANIFEST_MODELS, "churn": {"skipped": "too few churners (3)"}},
          "model_files": None}, "too few churners (3)"),
        ({"model_files": None}, "models/churn.json is missing"),
    ],
    ids=["pre-model snapshot", "training skipped", "file missing"],
)  # fmt: skip
def test_a_snapshot_without_a_churn_model_is_a_409(
    make_client: Any, options: dict[str, Any], reason: str
) -> None:
    client = make_client(**options)
    for payload in ({"customer_ids": ["C01"]}, {"features": [{}]}):
        response = client.post(URL, json=payload)
        assert response.status_code == 409, response.text
        body = response.json()
        assert_error_envelope(body, 409, "conflict")
        assert "has no churn model" in body["error_message"]
        assert reason in body["error_message"]
    # The rest of the API serves the snapshot as before.
    assert client.get("/marketing/customer-segmentation").status_code == 200
    assert client.get("/api/v1/customers/C01").status_code == 200


def test_a_broken_model_file_is_a_503_and_logged_once(make_client: Any) -> None:
    broken = copy.deepcopy(CHURN_GBT)
    broken["gbt"]["trees"][0]["nodes"][1]["left"] = 99
    client = make_client(model_files={"churn.json": broken})
    with capture_logs() as logs:
        responses = [client.post(URL, json={"features": [{}]}) for _ in range(2)]
    for response in responses:
        assert response.status_code == 503
        body = response.json()
        assert_error_envelope(body, 503, "service_unavailable")
        assert body["error_message"].startswith("churn model unavailable")
        assert "Traceback" not in response.text
    errors = [entry for entry in logs if entry["event"] == "churn_model_invalid"]
    assert len(errors) == 1
    assert "does not exist" in errors[0]["error"]
    status = client.get("/models/status").json()["data"]["models"][0]
    assert (status["model"], status["status"]) == ("churn", "unavailable")
    assert "invalid" in status["reason"]


def test_a_new_snapshot_brings_its_own_model(data_dir: Path, client: TestClient) -> None:
    assert client.post(URL, json={"features": [{}]}).json()["data"]["model_type"] == "gbt"
    publish(data_dir, "20260102T000000Z-bbbbbb", model_files={"churn.json": CHURN_LR})
    serving(client, "/marketing/customer-segmentation", "20260102T000000Z-bbbbbb")
    data = client.post(URL, json={"features": [{}]}).json()["data"]
    assert (data["model_type"], data["snapshot_id"]) == (
        "logistic_regression", "20260102T000000Z-bbbbbb",
    )  # fmt: skip
    assert data["scores"][0]["churn_probability"] == pytest.approx(
        reference_probability(CHURN_LR, {}), abs=1e-9
    )


def test_models_status_reports_each_model(client: TestClient) -> None:
    response = client.get("/models/status")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["snapshot_id"], data["as_of"]) == (SNAPSHOT_ID, "2025-12-31")
    churn, clv, clustering = data["models"]
    section = MANIFEST_MODELS["churn"]
    assert churn == {
        "model": "churn",
        "status": "available",
        "reason": None,
        "snapshot_id": SNAPSHOT_ID,
        "type": "gbt",
        "trained_at": "2026-01-01T00:05:00+00:00",
        "parameters": section["params"],
        "metrics": section["metrics"],
        "details": section,
    }
    assert clv["model"] == "clv"
    assert (clv["status"], clv["type"]) == ("available", "bgnbd+gamma_gamma")
    assert clv["parameters"] == {
        "bgnbd": {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43},
        "gamma_gamma": {"p": 6.25, "q": 3.74, "v": 15.45},
    }
    assert clv["metrics"]["bgnbd_log_likelihood"] == -9.52
    assert clv["details"] == MANIFEST_MODELS["clv"]
    assert clv["trained_at"]  # the snapshot's creation: CLV is fitted while it is built
    assert clustering["model"] == "clustering"
    assert (clustering["status"], clustering["type"]) == ("available", "kmeans")
    assert clustering["parameters"] == {"k": 3}
    assert clustering["metrics"] == {"silhouette": MANIFEST_MODELS["clustering"]["silhouette"]}
    assert clustering["trained_at"] == "2026-01-01T00:06:00+00:00"


def test_models_status_says_why_a_model_is_unavailable(make_client: Any) -> None:
    models = {"clv": {"skipped": "no repeat customers"}}
    client = make_client(models=models, model_files=None)
    statuses = client.get("/models/status").json()["data"]["models"]
    assert [(s["model"], s["status"]) for s in statuses] == [
        ("churn", "unavailable"), ("clv", "unavailable"), ("clustering", "unavailable"),
    ]  # fmt: skip
    churn, clv, clustering = statuses
    assert "no `churn` model" in churn["reason"]
    assert clv["reason"] == "the pipeline skipped it: no repeat customers"
    assert clv["details"] == {"skipped": "no repeat customers"}
    assert "no `clustering` model" in clustering["reason"]
    assert all(s[key] is None for s in (churn, clustering) for key in ("type", "metrics"))
