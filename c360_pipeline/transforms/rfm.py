"""RFM: recency, frequency and monetary scores 1-5 and the ten named segments.

Scores are quintiles computed from cut points of the whole customer base (`RfmThresholds`,
measured once per run with approximate percentiles): a value above k of the four cut points
scores k + 1 (recency reversed: more recent scores higher). Equal values always get equal
scores. The segment comes from the grid below over R and FM = round((F + M) / 2):

| R \\ FM | 1 | 2 | 3 | 4 | 5 |
|---|---|---|---|---|---|
| 5 | New Customers | Potential Loyalists | Potential Loyalists | Champions | Champions |
| 4 | Promising | Potential Loyalists | Potential Loyalists | Loyal Customers | Champions |
| 3 | About to Sleep | Need Attention | Need Attention | Loyal Customers | Loyal Customers |
| 2 | Hibernating | About to Sleep | At Risk | At Risk | At Risk |
| 1 | Lost | Hibernating | Hibernating | At Risk | At Risk |
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.columns import score_by_thresholds

SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Champions"),
    3: ("About to Sleep", "Need Attention", "Need Attention", "Loyal Customers", "Loyal Customers"),
    2: ("Hibernating", "About to Sleep", "At Risk", "At Risk", "At Risk"),
    1: ("Lost", "Hibernating", "Hibernating", "At Risk", "At Risk"),
}
SEGMENTS = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Hibernating",
    "Lost",
)
QUINTILES = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True)
class RfmThresholds:
    """Quintile cut points of recency days, orders and total spent over the customer base."""

    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        """For the manifest."""
        return {
            "recency_days": list(self.recency_days),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }


def measure_rfm_thresholds(summary_df: DataFrame, accuracy: int = 10_000) -> RfmThresholds:
    """Quintile cut points (one aggregation; an action, so it lives outside the transforms)."""
    row = summary_df.agg(
        F.percentile_approx("recency_days", list(QUINTILES), accuracy).alias("r"),
        F.percentile_approx("orders", list(QUINTILES), accuracy).alias("f"),
        F.percentile_approx("total_spent", list(QUINTILES), accuracy).alias("m"),
    ).first()
    if row is None or row["r"] is None:
        return RfmThresholds((), (), ())
    return RfmThresholds(
        tuple(float(v) for v in row["r"]),
        tuple(float(v) for v in row["f"]),
        tuple(float(v) for v in row["m"]),
    )


def rfm_segment(r_score: Column, fm_score: Column) -> Column:
    """Segment name from the grid for an R score and an FM score (both 1..5)."""
    expr = F.when(r_score.isNull() | fm_score.isNull(), F.lit(None).cast("string"))
    for r, names in SEGMENT_GRID.items():
        for fm, name in enumerate(names, start=1):
            expr = expr.when((r_score == r) & (fm_score == fm), F.lit(name))
    return expr


def with_rfm_scores(summary_df: DataFrame, thresholds: RfmThresholds) -> DataFrame:
    """Add r/f/m scores, the combined `rfm_score` ('545') and `rfm_segment`."""
    r = score_by_thresholds(
        F.col("recency_days"), list(thresholds.recency_days), higher_is_better=False
    )
    f = score_by_thresholds(F.col("orders"), list(thresholds.frequency), higher_is_better=True)
    m = score_by_thresholds(F.col("total_spent"), list(thresholds.monetary), higher_is_better=True)
    scored_df = summary_df.select("*", r.alias("r_score"), f.alias("f_score"), m.alias("m_score"))
    fm = F.floor((F.col("f_score") + F.col("m_score")) / 2.0 + 0.5).cast("int")
    return scored_df.select(
        *summary_df.columns,
        "r_score",
        "f_score",
        "m_score",
        F.concat(F.col("r_score"), F.col("f_score"), F.col("m_score")).alias("rfm_score"),
        rfm_segment(F.col("r_score"), fm).alias("rfm_segment"),
    )
