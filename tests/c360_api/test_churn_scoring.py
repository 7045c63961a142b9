"""The numpy churn scorer against probabilities worked out by hand from the test models."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from c360_api.churn_scoring import ChurnModelError, load_churn_model, parse_churn_model
from tests.c360_api.conftest import CHURN_GBT, CHURN_LR


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# GBT (conftest.CHURN_GBT): tree 1 (weight 1) splits log1p(recency) <= 3, then app sessions
# <= 1.5 (leaves 0.1 / -0.6) or frequency <= 2.5 (0.7 / 0.3); tree 2 (weight 0.5) splits
# log1p(monetary) <= 6 (leaf 0.4), then tenure <= 365 (-0.2 / -0.5). p = sigmoid(2 * margin).
# Fills: recency 365 (log1p 5.9 > 3), the others 0.
GBT_CASES: list[tuple[dict[str, float | None], float, str]] = [
    # log1p(3) = 1.39 <= 3, 10 sessions > 1.5: -0.6; log1p(800) = 6.69 > 6, 700 > 365: -0.5
    ({"recency_days": 3, "frequency": 5, "monetary": 800, "tenure_days": 700,
      "app_sessions_90d": 10}, sigmoid(2 * (-0.6 + 0.5 * -0.5)), "Low"),
    # every feature filled: recency 365 -> right, frequency 0 <= 2.5: 0.7; monetary 0: 0.4
    ({}, sigmoid(2 * (0.7 + 0.5 * 0.4)), "High"),
    # nulls are fills too; log1p(12) = 2.56 <= 3, sessions 0 <= 1.5: 0.1; 0.4
    ({"recency_days": 12, "monetary": None}, sigmoid(2 * (0.1 + 0.5 * 0.4)), "High"),
    # x == threshold goes left: sessions 1.5 -> 0.1; tenure 365 -> -0.2 (log1p(700) = 6.55 > 6)
    ({"recency_days": 0, "app_sessions_90d": 1.5, "monetary": 700, "tenure_days": 365},
     sigmoid(2 * (0.1 + 0.5 * -0.2)), "Medium"),
    # log1p(400) = 5.99 > 3, frequency 3 > 2.5: 0.3; tenure 365 -> -0.2: p = 0.5987 (Medium)
    ({"recency_days": 400, "frequency": 3, "monetary": 700, "tenure_days": 365},
     sigmoid(2 * (0.3 + 0.5 * -0.2)), "Medium"),
]  # fmt: skip

# LR (conftest.CHURN_LR): z = -1.2 + 0.5 log1p(recency) - 0.3 frequency - 0.2 log1p(monetary)
# - 0.001 tenure - 0.1 sessions.
LR_CASES: list[tuple[dict[str, float | None], float, str]] = [
    ({"recency_days": 3, "frequency": 5, "monetary": 800, "tenure_days": 700,
      "app_sessions_90d": 10},
     sigmoid(-1.2 + 0.5 * math.log(4) - 1.5 - 0.2 * math.log(801) - 0.7 - 1.0), "Low"),
    ({}, sigmoid(-1.2 + 0.5 * math.log(366)), "High"),
    ({"recency_days": 20, "frequency": 1, "monetary": None, "tenure_days": 400},
     sigmoid(-1.2 + 0.5 * math.log(21) - 0.3 - 0.4), "Medium"),
    ({"recency_days": 0, "frequency": 2, "monetary": 0, "tenure_days": 0},
     sigmoid(-1.2 - 0.6), "Low"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "cases"), [(CHURN_GBT, GBT_CASES), (CHURN_LR, LR_CASES)], ids=["gbt", "lr"]
)
def test_scores_equal_the_hand_computed_probabilities_and_bands(
    spec: dict[str, Any], cases: list[tuple[dict[str, float | None], float, str]]
) -> None:
    model = parse_churn_model(spec)
    rows = [row for row, _, _ in cases]
    probabilities = model.score(rows)
    for (row, wanted, _), got in zip(cases, probabilities, strict=True):
        assert got == pytest.approx(wanted, abs=1e-9), row
    assert model.bands(probabilities) == [band for _, _, band in cases]
    # Scoring together equals scoring one at a time (the trees walk all rows at once).
    singles = [float(model.score([row])[0]) for row in rows]
    assert singles == pytest.approx(list(probabilities), abs=1e-15)
    assert model.type == spec["type"]
    assert model.feature_names == tuple(feature["name"] for feature in spec["features"])


def test_the_band_is_the_first_whose_limit_is_above_the_probability() -> None:
    model = parse_churn_model(CHURN_GBT)
    assert [model.band(p) for p in (0.0, 0.2999999, 0.3, 0.5999999, 0.6, 1.0)] == [
        "Low", "Low", "Medium", "Medium", "High", "High",
    ]  # fmt: skip
    assert model.band(float("nan")) is None


def test_extreme_margins_give_probabilities_of_zero_and_one_without_warnings() -> None:
    spec = copy.deepcopy(CHURN_LR)
    spec["logistic_regression"]["coefficients"] = [0.0, 1000.0, 0.0, 0.0, -1000.0]
    model = parse_churn_model(spec)
    with np.errstate(all="raise"):
        probabilities = model.score([{"frequency": 10}, {"app_sessions_90d": 10}])
    assert list(probabilities) == [1.0, 0.0]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = spec
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec.pop(key)


BROKEN: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], None], str]] = {
    "wrong model": (CHURN_GBT, _set("model", "clv"), "model"),
    "unknown type": (CHURN_GBT, _set("type", "random_forest"), "type"),
    "gbt without trees": (CHURN_GBT, _drop("gbt"), "needs a `gbt` section"),
    "lr without coefficients": (CHURN_LR, _drop("logistic_regression"), "logistic_regression"),
    "too few coefficients": (
        CHURN_LR, _set("logistic_regression.coefficients", [0.1]), "1 coefficients for 5"
    ),
    "unknown transform": (CHURN_LR, _set("features.0.transform", "sqrt"), "transform"),
    "repeated feature": (CHURN_LR, _set("features.1.name", "recency_days"), "repeat"),
    "no features": (CHURN_LR, _set("features", []), "features"),
    "leaf and split": (CHURN_GBT, _set("gbt.trees.0.nodes.3.feature", 1), "either"),
    "child out of range": (CHURN_GBT, _set("gbt.trees.0.nodes.1.left", 40), "does not exist"),
    "cycle": (CHURN_GBT, _set("gbt.trees.1.nodes.2.right", 0), "reached twice"),
    "feature out of range": (CHURN_GBT, _set("gbt.trees.1.nodes.0.feature", 5), "feature 5"),
    "no catch-all band": (CHURN_GBT, _set("bands.2.below", 0.9), "below: null"),
    "bands not increasing": (CHURN_GBT, _set("bands.1.below", 0.2), "increase"),
    "non-finite fill": (CHURN_GBT, _set("features.0.fill", float("nan")), "finite"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_malformed_model_is_refused_saying_why(case: str) -> None:
    base, change, message = BROKEN[case]
    spec = copy.deepcopy(base)
    change(spec)
    with pytest.raises(ChurnModelError, match=message):
        parse_churn_model(json.loads(json.dumps(spec)))


def test_loading_a_file(tmp_path: Path) -> None:
    path = tmp_path / "churn.json"
    with pytest.raises(FileNotFoundError):
        load_churn_model(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ChurnModelError, match="not JSON"):
        load_churn_model(path)
    path.write_text(json.dumps(CHURN_GBT), encoding="utf-8")
    assert load_churn_model(path).type == "gbt"
