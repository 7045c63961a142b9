"""The "models" section of docs/benchmarks.md: churn and clustering training time and metrics,
read from the manifests of the pipeline benchmark's builds (`python -m bench --only pipeline`
writes it after the pipeline section)."""

from __future__ import annotations

from typing import Any

from bench.report import machine_line


def _metric(metrics: dict[str, Any], name: str) -> str:
    value = metrics.get(name)
    return "–" if value is None else f"{value:.4f}"


def _churn_row(customers: int, manifest: dict[str, Any]) -> str:
    churn = manifest["models"].get("churn") or {"skipped": "no churn section"}
    stages = manifest.get("stage_seconds", {})
    if "skipped" in churn:
        return f"| {customers:,} | skipped: {churn['skipped']} |" + " |" * 11
    test = churn["metrics"]["test"]
    base = churn["metrics"]["baseline_p_alive_test"]
    fits = ", ".join(
        f"{name} {c['fit_seconds']:.1f}" for name, c in churn.get("candidates", {}).items()
    )
    return (
        f"| {customers:,} | {churn['type']} | {stages.get('churn_model', 0.0):.1f} "
        f"| {churn['training_seconds']:.1f} ({fits}) | {churn['split']['train']:,} "
        f"| {test['rows']:,} | {_metric(test, 'roc_auc')} | {_metric(base, 'roc_auc')} "
        f"| {_metric(test, 'pr_auc')} | {_metric(base, 'pr_auc')} "
        f"| {_metric(test, 'brier')} | {_metric(base, 'brier')} "
        f"| {_metric(test, 'top_decile_lift')} / {_metric(base, 'top_decile_lift')} |"
    )


def _clustering_row(customers: int, manifest: dict[str, Any]) -> str:
    clustering = manifest["models"].get("clustering") or {"skipped": "no clustering section"}
    stages = manifest.get("stage_seconds", {})
    if "skipped" in clustering:
        return f"| {customers:,} | skipped: {clustering['skipped']} |" + " |" * 6
    best = ", ".join(
        f"{algorithm} k={k} ({clustering['silhouette'][algorithm][str(k)]:.3f})"
        for algorithm, k in clustering.get("best_k", {}).items()
        if k is not None
    )
    labels = "; ".join(f"{c['label']} ({c['size']:,})" for c in clustering["clusters"])
    return (
        f"| {customers:,} | {clustering['algorithm']} k={clustering['k']} "
        f"| {clustering['silhouette_score']:.3f} | {clustering['elapsed_seconds']:.1f} "
        f"| {stages.get('clustering', 0.0):.1f} | {best} | {labels} |"
    )


def render(manifests: dict[int, dict[str, Any]]) -> str:
    """The markdown body of the "models" section, one row per size."""
    sizes = sorted(manifests)
    return "\n".join(
        [
            "## Models: churn propensity and behavioural clusters (pipeline build)",
            "",
            machine_line() + ".",
            "",
            "From the manifests of the pipeline builds above. Churn: stage s = the whole "
            "`churn_model` stage (features as of the cutoff and the as-of date, the "
            "`churn_features` table, training, evaluation, export); training s = both "
            "candidates' fits, their validation, the test metrics and the export (per-candidate "
            "fit seconds in brackets; the two fit side by side, so their "
            "seconds overlap). Metrics are on the test split (customers neither model "
            "was fitted or chosen on), model vs the baseline 1 − P(alive) from BG/NBD at the "
            "cutoff on the same customers. Lift = churn rate in the top decile / overall (at most "
            "1 / churn rate: when over half the customers churn, any good ranking saturates it).",
            "",
            "| customers | chosen | stage s | training s | train rows | test rows "
            "| ROC AUC | baseline | PR AUC | baseline | Brier | baseline | lift / baseline |",
            "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *(_churn_row(n, manifests[n]) for n in sizes),
            "",
            "Clustering runs in the `clustering` stage, after the churn model: fit s = its own "
            "wall time (statistics, 3 algorithms × k on the selection sample with silhouettes, "
            "four fits at a time, cluster profiles); stage s = the whole `clustering` stage. "
            "Best k per algorithm with its silhouette.",
            "",
            "| customers | chosen | silhouette | fit s | stage s | best k per algorithm "
            "| clusters (size) |",
            "|---:|---|---:|---:|---:|---|---|",
            *(_clustering_row(n, manifests[n]) for n in sizes),
        ]
    )
