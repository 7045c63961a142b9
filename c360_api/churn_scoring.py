"""The churn model a snapshot exports (`models/churn.json`), scored with numpy alone.

The pipeline trains the model in Spark MLlib and writes everything scoring needs: the features
in order with their fill value and transform, then either a logistic regression (intercept and
coefficients) or a gradient-boosted tree ensemble (weighted trees of `{feature, threshold,
left, right}` splits and `{leaf}` values), and the risk bands. For feature i,
`x_i = value if not null else fill`, then `log1p(max(x_i, 0))` when its transform says so; a
logistic regression answers `1 / (1 + exp(-(intercept + coefficients . x)))`, the trees
`1 / (1 + exp(-2 * sum(weight * leaf(x))))` (MLlib's GBT logistic loss); a split goes left when
`x <= threshold`. The band is the first whose `below` is null or above the probability.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FloatArray = npt.NDArray[np.float64]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

CHURN_MODEL_FILE = Path("models") / "churn.json"
"""Where a snapshot keeps its churn model, relative to the snapshot directory."""


class ChurnModelError(ValueError):
    """A churn model file that cannot be read or does not describe a usable model."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FeatureSpec(_Spec):
    """One model input: its column name, what replaces a null, and its transform."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
    transform: Literal["log1p", "identity"]
    fill: FiniteFloat


class LogisticRegressionSpec(_Spec):
    """A logistic regression on the transformed features."""

    intercept: FiniteFloat
    coefficients: list[FiniteFloat]


class TreeNodeSpec(_Spec):
    """A split (`feature`, `threshold`, `left`, `right`) or a leaf (`leaf`)."""

    feature: int | None = Field(None, ge=0)
    threshold: FiniteFloat | None = None
    left: int | None = Field(None, ge=0)
    right: int | None = Field(None, ge=0)
    leaf: FiniteFloat | None = None

    @model_validator(mode="after")
    def _split_or_leaf(self) -> TreeNodeSpec:
        split = (self.feature, self.threshold, self.left, self.right)
        if self.leaf is not None and all(part is None for part in split):
            return self
        if self.leaf is None and all(part is not None for part in split):
            return self
        raise ValueError("a node is either {leaf} or {feature, threshold, left, right}")


class TreeSpec(_Spec):
    """One weighted tree; its root is `nodes[0]`."""

    weight: FiniteFloat
    nodes: list[TreeNodeSpec] = Field(min_length=1)


class GbtSpec(_Spec):
    """A gradient-boosted tree ensemble."""

    trees: list[TreeSpec] = Field(min_length=1)


class BandSpec(_Spec):
    """A risk band: probabilities below `below` (null: every probability left)."""

    name: str = Field(min_length=1)
    below: FiniteFloat | None


class ChurnModelSpec(_Spec):
    """The `models/churn.json` a snapshot publishes (keys this module does not use are kept
    by the manifest, not here)."""

    model: Literal["churn"]
    type: Literal["gbt", "logistic_regression"]
    features: list[FeatureSpec] = Field(min_length=1)
    logistic_regression: LogisticRegressionSpec | None = None
    gbt: GbtSpec | None = None
    bands: list[BandSpec] = Field(min_length=1)
    snapshot_id: str | None = None
    as_of: str | None = None
    cutoff: str | None = None
    window_days: int | None = None
    trained_at: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChurnModelSpec:
        names = [feature.name for feature in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names repeat")
        if self.type == "logistic_regression":
            if self.logistic_regression is None:
                raise ValueError("type logistic_regression needs a `logistic_regression` section")
            if len(self.logistic_regression.coefficients) != len(names):
                raise ValueError(
                    f"{len(self.logistic_regression.coefficients)} coefficients "
                    f"for {len(names)} features"
                )
        elif self.gbt is None:
            raise ValueError("type gbt needs a `gbt` section")
        else:
            for index, tree in enumerate(self.gbt.trees):
                _check_tree(tree, len(names), index)
        limits = [band.below for band in self.bands]
        if limits[-1] is not None or any(limit is None for limit in limits[:-1]):
            raise ValueError("only the last band, and it always, has `below: null`")
        bounded = [limit for limit in limits[:-1] if limit is not None]
        if any(low >= high for low, high in itertools.pairwise(bounded)):
            raise ValueError("band limits must increase")
        return self


def _check_tree(tree: TreeSpec, n_features: int, index: int) -> None:
    """A tree's splits name known features and its nodes form one tree from the root."""
    seen: set[int] = set()
    stack = [0]
    while stack:
        node_index = stack.pop()
        if node_index >= len(tree.nodes):
            raise ValueError(f"tree {index}: node {node_index} does not exist")
        if node_index in seen:
            raise ValueError(f"tree {index}: node {node_index} is reached twice")
        seen.add(node_index)
        node = tree.nodes[node_index]
        if node.leaf is None:
            feature, left, right = node.feature or 0, node.left or 0, node.right or 0
            if feature >= n_features:
                raise ValueError(f"tree {index}: feature {feature} of {n_features}")
            stack += [left, right]


@dataclass(frozen=True)
class _Tree:
    """A tree as arrays, node by node (a leaf's split columns are unused)."""

    weight: float
    feature: npt.NDArray[np.intp]
    threshold: FloatArray
    left: npt.NDArray[np.intp]
    right: npt.NDArray[np.intp]
    is_leaf: npt.NDArray[np.bool_]
    leaf: FloatArray
    depth: int

    @classmethod
    def of(cls, spec: TreeSpec) -> _Tree:
        nodes = spec.nodes
        return cls(
            weight=spec.weight,
            feature=np.array([node.feature or 0 for node in nodes], dtype=np.intp),
            threshold=np.array([node.threshold or 0.0 for node in nodes], dtype=np.float64),
            left=np.array([node.left or 0 for node in nodes], dtype=np.intp),
            right=np.array([node.right or 0 for node in nodes], dtype=np.intp),
            is_leaf=np.array([node.leaf is not None for node in nodes], dtype=np.bool_),
            leaf=np.array([node.leaf or 0.0 for node in nodes], dtype=np.float64),
            depth=_depth(nodes),
        )

    def values(self, x: FloatArray) -> FloatArray:
        """The leaf value each row of `x` reaches (all rows walk down together)."""
        node = np.zeros(x.shape[0], dtype=np.intp)
        rows = np.arange(x.shape[0])
        for _ in range(self.depth):
            inner = ~self.is_leaf[node]
            if not inner.any():
                break
            at = node[inner]
            goes_left = x[rows[inner], self.feature[at]] <= self.threshold[at]
            node[inner] = np.where(goes_left, self.left[at], self.right[at])
        return self.leaf[node]


def _depth(nodes: Sequence[TreeNodeSpec]) -> int:
    depth, level = 0, [0]
    while level:
        level = [
            child
            for index in level
            if nodes[index].leaf is None
            for child in (nodes[index].left, nodes[index].right)
            if child is not None
        ]
        depth += 1 if level else 0
    return depth


class ChurnModel:
    """A churn model ready to score: features, fills, transforms, and the fitted model."""

    def __init__(self, spec: ChurnModelSpec) -> None:
        self.spec = spec
        self.feature_names: tuple[str, ...] = tuple(feature.name for feature in spec.features)
        self._fills = np.array([feature.fill for feature in spec.features], dtype=np.float64)
        self._log1p = np.array(
            [feature.transform == "log1p" for feature in spec.features], dtype=np.bool_
        )
        self._trees = [_Tree.of(tree) for tree in spec.gbt.trees] if spec.gbt else []
        regression = spec.logistic_regression
        self._intercept = regression.intercept if regression else 0.0
        self._coefficients = np.array(regression.coefficients if regression else [], np.float64)
        self._band_names = [band.name for band in spec.bands]
        self._band_limits = np.array(
            [band.below for band in spec.bands if band.below is not None], dtype=np.float64
        )

    @property
    def type(self) -> str:
        """`gbt` or `logistic_regression`."""
        return self.spec.type

    def matrix(self, rows: Sequence[Mapping[str, float | None]]) -> FloatArray:
        """Raw feature values as a (rows, features) matrix in the model's order; a feature a
        row lacks, or gives as null, is NaN (filled when scored)."""
        x = np.full((len(rows), len(self.feature_names)), np.nan, dtype=np.float64)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.feature_names):
                value = row.get(name)
                if value is not None:
                    x[i, j] = value
        return x

    def score_matrix(self, raw: FloatArray) -> FloatArray:
        """Churn probabilities of raw feature rows (NaN means missing: the feature's fill)."""
        x = np.where(np.isnan(raw), self._fills, raw)
        with np.errstate(invalid="ignore", divide="ignore"):
            # As the pipeline: a negative amount (refunds) logs as 0.
            x = np.where(self._log1p, np.log1p(np.maximum(x, 0.0)), x)
        if self._trees:
            margin = np.zeros(x.shape[0], dtype=np.float64)
            for tree in self._trees:
                margin += tree.weight * tree.values(x)
            z = 2.0 * margin
        else:
            z = self._intercept + x @ self._coefficients
        with np.errstate(over="ignore", under="ignore"):
            probabilities: FloatArray = 1.0 / (1.0 + np.exp(-z))
        return probabilities

    def score(self, rows: Sequence[Mapping[str, float | None]]) -> FloatArray:
        """Churn probabilities of rows of `{feature: raw value or None}`."""
        return self.score_matrix(self.matrix(rows))

    def bands(self, probabilities: FloatArray) -> list[str | None]:
        """The risk band of each probability (None for a probability that is not a number)."""
        index = np.searchsorted(self._band_limits, probabilities, side="right")
        return [
            self._band_names[int(i)] if not math.isnan(p) else None
            for i, p in zip(index, probabilities, strict=True)
        ]

    def band(self, probability: float) -> str | None:
        """The risk band of one probability."""
        return self.bands(np.array([probability], dtype=np.float64))[0]


def parse_churn_model(data: Any) -> ChurnModel:
    """A model from the parsed JSON; ChurnModelError saying what is wrong."""
    try:
        return ChurnModel(ChurnModelSpec.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'model'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ChurnModelError(problems) from exc


def load_churn_model(path: Path) -> ChurnModel:
    """The model in a `churn.json` file; FileNotFoundError when there is none, ChurnModelError
    when it is not JSON or not a usable model."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChurnModelError(f"not JSON: {exc}") from exc
    return parse_churn_model(data)
