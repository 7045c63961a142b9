"""One pipeline run: ingest → validate → conform → features → models → snapshot → publish."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from c360_pipeline import snapshots, writers
from c360_pipeline.ingest.dataset import (
    FoundSource,
    attach_known_customers,
    count_raw_rows,
    find_sources,
    known_customer_ids,
    read_dataset,
)
from c360_pipeline.ingest.dates import DateOrder
from c360_pipeline.ingest.readers import RAW
from c360_pipeline.ingest.staging import StagedSource, stage_source
from c360_pipeline.ingest.validate import DETAIL, REASON
from c360_pipeline.jvm_usage import JvmUsage, read_jvm_usage
from c360_pipeline.models.btyd import BgNbdFit, BtydFitError, GammaGammaFit
from c360_pipeline.models.churn import (
    ChurnModel,
    ChurnSettings,
    build_churn_frames,
    churn_purchase_aggregations,
    score_customers,
    train_churn_model,
)
from c360_pipeline.models.clustering import (
    ClusteringResult,
    ClusteringSettings,
    build_cluster_features,
    fit_clusters,
)
from c360_pipeline.models.clv_fit import (
    ClvModels,
    fit_bgnbd_from_summary,
    fit_gamma_gamma_from_summary,
    holdout_calibration_end,
    holdout_check,
)
from c360_pipeline.quality import QualityError, check_conservation, check_customer_360
from c360_pipeline.settings import PipelineSettings
from c360_pipeline.stages import STAGES
from c360_pipeline.transforms import insights
from c360_pipeline.transforms.clv import with_clv_predictions
from c360_pipeline.transforms.customer_360 import build_customer_360, build_customer_profiles
from c360_pipeline.transforms.engagement import (
    INTERACTIONS_FACT_SCHEMA,
    build_digital_engagement,
    build_interaction_summary,
    build_interactions_fact,
    build_support_summary,
)
from c360_pipeline.transforms.purchases import (
    UNKNOWN_CATEGORY,
    build_category_preferences,
    build_customer_categories,
    build_daily_purchases,
    build_purchase_summary,
    build_transactions_fact,
    days_by_raw_category,
    mask_channels,
)
from c360_pipeline.transforms.rfm import measure_rfm_thresholds, with_rfm_scores

log = structlog.get_logger(__name__)
CLV_COLUMNS = ("p_alive", "expected_purchases_12m", "expected_avg_value", "predicted_clv_12m")
INPUTS_UNCHANGED = "inputs unchanged"


class PipelineError(RuntimeError):
    """The run failed after it started; nothing was published."""


@dataclass(frozen=True)
class RunOptions:
    """What to build: input, organisation, as-of date, column maps and date order."""

    org: str
    input_path: str | None = None
    as_of: date | None = None
    column_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    date_order: DateOrder | None = None
    fail_at_stage: str | None = None
    """Test hook: raise at the start of this stage (proves a failed run publishes nothing)."""


@dataclass
class RunResult:
    """What a published run produced."""

    snapshot_id: str
    as_of: date
    tables: dict[str, int]
    quarantined: dict[str, dict[str, int]]
    stage_seconds: dict[str, float]
    seconds: float
    manifest: dict[str, Any]
    model_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Portable model exports written as `models/<name>.json` next to the manifest."""


@dataclass(frozen=True)
class SkippedRun:
    """A `run_pipeline_if_changed` that found nothing new to build: the current snapshot stands."""

    snapshot_id: str
    reason: str
    seconds: float


class _Stages:
    """Times each stage and logs one line per stage with its rows and seconds."""

    def __init__(self, fail_at: str | None) -> None:
        self.seconds: dict[str, float] = {}
        self.fail_at = fail_at

    @contextmanager
    def stage(self, name: str, **fields: Any) -> Iterator[dict[str, Any]]:
        if name == self.fail_at:
            raise PipelineError(f"injected failure at stage {name!r}")
        started = time.perf_counter()
        info: dict[str, Any] = dict(fields)
        yield info
        seconds = round(time.perf_counter() - started, 3)
        self.seconds[name] = seconds
        log.info("stage_finished", stage=name, seconds=round(seconds, 2), **info)


def parallel_map(action: Callable[[Any], Any], items: list[Any], workers: int = 4) -> list[Any]:
    """`action` over `items` from a few threads (Spark runs jobs from several threads at once)."""
    if len(items) <= 1:
        return [action(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(action, items))


def default_input(settings: PipelineSettings, org: str) -> str:
    """The organisation's raw area."""
    return str(snapshots.org_root(settings.data_dir, org) / "raw")


def run_pipeline(
    spark: SparkSession,
    settings: PipelineSettings,
    options: RunOptions,
    *,
    already_locked: bool = False,
) -> RunResult:
    """Build and publish a snapshot for one organisation, holding its run lock throughout
    (pass `already_locked=True` when the caller holds `snapshots.RunLock` itself)."""
    org = snapshots.validate_org(options.org)
    if already_locked:
        return _run_locked(spark, settings, options, org)
    with snapshots.RunLock(settings.data_dir, org):
        return _run_locked(spark, settings, options, org)


def run_pipeline_if_changed(
    spark: SparkSession,
    settings: PipelineSettings,
    options: RunOptions,
    *,
    already_locked: bool = False,
) -> RunResult | SkippedRun:
    """Like `run_pipeline`, but build nothing if the current snapshot has this input and options."""
    org = snapshots.validate_org(options.org)
    if already_locked:
        return _run_if_changed_locked(spark, settings, options, org)
    with snapshots.RunLock(settings.data_dir, org):
        return _run_if_changed_locked(spark, settings, options, org)


def _run_if_changed_locked(
    spark: SparkSession, settings: PipelineSettings, options: RunOptions, org: str
) -> RunResult | SkippedRun:
    started = time.perf_counter()
    input_path = options.input_path or default_input(settings, org)
    try:
        found = find_sources(spark, input_path)
    except BaseException as exc:
        _record_failure(settings, org, None, exc, started)
        raise
    current = _unchanged_snapshot(
        settings, org, _input_record(input_path, found), _options_record(options)
    )
    if current is None:
        # Build from this very listing: the manifest records the fingerprint just compared.
        return _run_locked(spark, settings, options, org, found=found)
    skipped = SkippedRun(current, INPUTS_UNCHANGED, round(time.perf_counter() - started, 2))
    snapshots.record_run(
        settings.data_dir,
        org,
        {
            "snapshot_id": current,
            "status": "skipped",
            "reason": skipped.reason,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": skipped.seconds,
        },
    )
    log.info("run_skipped", org=org, snapshot_id=current, reason=skipped.reason)
    return skipped


def _unchanged_snapshot(
    settings: PipelineSettings,
    org: str,
    input_record: dict[str, Any],
    options_record: dict[str, Any],
) -> str | None:
    """The current snapshot's id if its manifest records this input and these options."""
    current = snapshots.current_snapshot_id(settings.data_dir, org)
    if current is None:
        return None
    try:
        manifest = snapshots.read_manifest(snapshots.snapshot_dir(settings.data_dir, org, current))
    except (OSError, ValueError):
        return None
    is_same = manifest.get("input") == input_record and manifest.get("options") == options_record
    return current if is_same else None


def _record_failure(
    settings: PipelineSettings,
    org: str,
    snapshot_id: str | None,
    exc: BaseException,
    started: float,
) -> None:
    snapshots.record_run(
        settings.data_dir,
        org,
        {
            "snapshot_id": snapshot_id,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


def _run_locked(
    spark: SparkSession,
    settings: PipelineSettings,
    options: RunOptions,
    org: str,
    *,
    found: dict[str, FoundSource] | None = None,
) -> RunResult:
    started = time.perf_counter()
    jvm_before = _jvm_usage(spark)
    stages = _Stages(options.fail_at_stage)
    input_path = options.input_path or default_input(settings, org)
    snapshot_id = snapshots.new_snapshot_id(datetime.now(UTC))
    snapshot_path = snapshots.snapshot_dir(settings.data_dir, org, snapshot_id)
    snapshot_uri = str(snapshot_path)
    log.info("run_started", org=org, snapshot_id=snapshot_id, input=input_path)
    try:
        result = _build(
            spark, settings, options, stages, input_path, snapshot_id, snapshot_uri, found
        )
    except BaseException as exc:
        snapshots.discard(settings.data_dir, org, snapshot_id)
        _record_failure(settings, org, snapshot_id, exc, started)
        raise
    result.seconds = round(time.perf_counter() - started, 2)
    result.manifest["duration_seconds"] = result.seconds
    result.manifest["stage_seconds"] = stages.seconds
    jvm_after = _jvm_usage(spark)
    if jvm_before is not None and jvm_after is not None:
        result.manifest["driver_jvm"] = jvm_after.since(jvm_before)
    for name, model_file in result.model_files.items():
        snapshots.write_model_file(snapshot_path, name, model_file)
    snapshots.write_manifest(snapshot_path, result.manifest)
    removed = snapshots.publish(settings.data_dir, org, snapshot_id, keep=settings.snapshots_keep)
    snapshots.record_run(
        settings.data_dir,
        org,
        {
            "snapshot_id": snapshot_id,
            "status": "published",
            "as_of": result.as_of.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": result.seconds,
            "tables": result.tables,
            "removed_snapshots": removed,
        },
    )
    log.info(
        "run_published",
        snapshot_id=snapshot_id,
        as_of=result.as_of.isoformat(),
        tables=result.tables,
        quarantined=result.quarantined,
        seconds=result.seconds,
    )
    return result


def _jvm_usage(spark: SparkSession) -> JvmUsage | None:
    """The driver JVM's counters, or None when they cannot be read (never fails a run)."""
    try:
        return read_jvm_usage(spark)
    except Exception as exc:  # a missing figure must not fail the run
        log.warning("jvm_usage_unavailable", reason=str(exc).splitlines()[0][:200])
        return None


def _input_record(input_path: str, found: dict[str, FoundSource]) -> dict[str, Any]:
    """The manifest's `input`: the path read and every source's fingerprint."""
    return {"path": input_path, "sources": _fingerprint(found)}


def _options_record(options: RunOptions) -> dict[str, Any]:
    """The manifest's `options`: the requested options that shape a snapshot's contents."""
    return {
        "as_of": options.as_of.isoformat() if options.as_of is not None else None,
        "column_maps": options.column_maps,
        "date_order": options.date_order,
    }


def _fingerprint(found: dict[str, FoundSource]) -> dict[str, Any]:
    return {
        name: {
            "path": source.path,
            "format": source.file_format,
            "files": len(source.files),
            "bytes": sum(f[1] for f in source.files),
            "latest_modified_ms": max(f[2] for f in source.files),
        }
        for name, source in found.items()
    }


def _build(
    spark: SparkSession,
    settings: PipelineSettings,
    options: RunOptions,
    stages: _Stages,
    input_path: str,
    snapshot_id: str,
    snapshot_uri: str,
    discovered: dict[str, FoundSource] | None,
) -> RunResult:
    def path(table: str) -> str:
        return writers.table_path(snapshot_uri, table)

    persisted: list[DataFrame] = []
    catalog_tables: list[str] = []

    def keep(df: DataFrame) -> DataFrame:
        persisted.append(df.persist(StorageLevel.MEMORY_AND_DISK))
        return df

    def catalog_table(table: str) -> str:
        catalog_tables.append(writers.catalog_name("c360", options.org, snapshot_id, table))
        return catalog_tables[-1]

    background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="c360-background")
    try:
        return _build_tables(
            spark,
            settings,
            options,
            stages,
            input_path,
            snapshot_id,
            path,
            keep,
            catalog_table,
            background,
            discovered,
        )
    finally:
        # Wait for background work: none of it may outlive the run (or its input files).
        background.shutdown(wait=True, cancel_futures=True)
        for df in persisted:
            df.unpersist()
        for name in catalog_tables:
            writers.drop_catalog_table(spark, name)


def _build_tables(
    spark: SparkSession,
    settings: PipelineSettings,
    options: RunOptions,
    stages: _Stages,
    input_path: str,
    snapshot_id: str,
    path: Callable[[str], str],
    keep: Callable[[DataFrame], DataFrame],
    catalog_table: Callable[[str], str],
    background: ThreadPoolExecutor,
    discovered: dict[str, FoundSource] | None,
) -> RunResult:
    tables: dict[str, int] = {}

    with stages.stage("ingest") as info:
        found = discovered if discovered is not None else find_sources(spark, input_path)
        validated = read_dataset(
            spark, found, column_maps=options.column_maps, date_order=options.date_order
        )
        info["sources"] = sorted(found)

    # Validate once: write every row with its reason to staging, then split from there.
    staged_sources: dict[str, StagedSource] = {}

    def staged(name: str) -> DataFrame:
        """A source's validated rows, from its staged row checks."""
        return staged_sources[name].validated_df(spark)

    def stage(name: str) -> dict[str, Any]:
        source = validated[name]
        staged_sources[name] = result = stage_source(spark, source, path(f"_staging/{name}"))
        return {
            "accepted": result.accepted,
            "quarantined": sum(result.by_reason.values()),
            "quarantined_by_reason": dict(sorted(result.by_reason.items())),
            "date_orders": {k: v for k, v in result.date_orders.items() if v},
        }

    def by_size(names: list[str]) -> list[str]:
        """Biggest input first: the long jobs start first and the small ones fill their tail."""
        return sorted(names, key=lambda n: -sum(f[1] for f in validated[n].found.files))

    with stages.stage("validate") as info:
        # The sources that reference customers are checked against the known customer ids,
        # taken from the staged customers rows: those are staged first, so the customers file
        # is parsed once. The raw row counts (for the conservation check) need no known ids
        # and fill that first step. Each step's jobs are submitted together, which keeps both
        # cores busy through the many small jobs of the small sources.
        first = [n for n in validated if not validated[n].raw.schema.references_customers]
        rest = by_size([n for n in validated if n not in first])
        everything = by_size(list(validated))
        work: list[Callable[[], Any]] = [partial(stage, n) for n in first]
        work += [partial(count_raw_rows, spark, validated[n].found) for n in everything]
        done = parallel_map(lambda action: action(), work, workers=len(work))
        counts = dict(zip(first, done[: len(first)], strict=True))
        rows_read = dict(zip(everything, done[len(first) :], strict=True))
        if "customers" in staged_sources:
            staged_customers_df = staged_sources["customers"].checked_rows_df(spark)
            attach_known_customers(validated, known_customer_ids(staged_customers_df))
        counts.update(zip(rest, parallel_map(stage, rest, workers=len(rest)), strict=True))
        counts = {name: {"rows_read": rows_read[name], **counts[name]} for name in validated}
        for source in validated.values():
            source.release()
        check_conservation(counts)
        info["rows_read"] = {n: c["rows_read"] for n, c in counts.items()}

    def accepted_df(name: str) -> DataFrame | None:
        if name not in validated:
            return None
        return (
            staged(name)
            .where(F.col(REASON).isNull())
            .select(*validated[name].raw.schema.column_names)
        )

    with stages.stage("quarantine") as info:
        frames = [
            staged(name)
            .where(F.col(REASON).isNotNull())
            .select(
                F.lit(name).alias("source"),
                F.col(REASON).alias("reason"),
                F.col(DETAIL).alias("column"),
                F.col(RAW).alias("raw_record"),
            )
            for name in validated
        ]
        quarantine_df = frames[0]
        for frame in frames[1:]:
            quarantine_df = quarantine_df.unionByName(frame)
        quarantine_df.coalesce(max(1, spark.sparkContext.defaultParallelism)).write.mode(
            "errorifexists"
        ).parquet(path("_quarantine"))
        info["rows"] = sum(c["quarantined"] for c in counts.values())

    transactions_df = accepted_df("transactions")
    assert transactions_df is not None
    with stages.stage("as_of") as info:
        as_of = options.as_of
        if as_of is None:
            latest = transactions_df.agg(F.max("transaction_date")).first()
            if latest is None or latest[0] is None:
                raise PipelineError("no accepted transactions: nothing to build")
            as_of = latest[0]
        info["as_of"] = as_of.isoformat()

    products_df = accepted_df("products")
    customers_df = accepted_df("customers")
    with stages.stage("transactions") as info:
        # Bucketed by customer (each file sorted by customer, date and category): the layout a
        # per-customer lookup wants, and read back through the catalog, every per-customer
        # aggregation below runs without a shuffle of its own, and those by customer and day
        # (and category) stream over the sorted rows.
        buckets = int(spark.conf.get("spark.sql.shuffle.partitions") or 1)
        sorted_by = ("customer_id", "transaction_date", "category")
        # Seen as the rows are written: the channels let the customer categories record each
        # customer's channels as bits (no pass of their own over the transactions), and the
        # null and 'Unknown' categories whether their day rows may go by the raw category.
        fact_seen = Observation(f"c360_fact_{uuid.uuid4().hex}")
        fact_df = writers.write_bucketed_table(
            build_transactions_fact(transactions_df, products_df, as_of).observe(
                fact_seen,
                F.collect_set("channel").alias("channels"),
                F.count(F.when(F.col("category").isNull(), 1)).alias("null_categories"),
                F.count(F.when(F.col("category") == UNKNOWN_CATEGORY, 1)).alias(
                    "unknown_categories"
                ),
            ),
            path("transactions"),
            catalog_table("transactions"),
            bucket_by="customer_id",
            buckets=buckets,
            sort_by=sorted_by,
        )
        transactions_layout = {
            "bucketed_by": "customer_id",
            "buckets": buckets,
            "sorted_by": list(sorted_by),
        }
        tables["transactions"] = info["rows"] = writers.count_rows(spark, path("transactions"))
        seen = fact_seen.get
        channels = mask_channels(seen["channels"])
        raw_category_days = days_by_raw_category(
            seen["null_categories"], seen["unknown_categories"]
        )

    with stages.stage("customer_summary") as info:
        daily_df = build_daily_purchases(fact_df)
        calibration_end = holdout_calibration_end(as_of)
        # The churn model's purchase features ride along: the purchases are aggregated once.
        summary_df = keep(
            build_purchase_summary(
                daily_df,
                as_of,
                calibration_end,
                extra_aggregations=churn_purchase_aggregations(as_of, settings.churn_window_days),
            )
        )
        info["customers_with_purchases"] = summary_df.count()
        if info["customers_with_purchases"] == 0:
            raise PipelineError(f"no accepted transactions on or before as-of {as_of}")

    support_src, interactions_src = accepted_df("support_tickets"), accepted_df("interactions")
    events_src, loyalty_src = accepted_df("digital_events"), accepted_df("loyalty")
    engagement_df = (
        keep(build_digital_engagement(events_src, as_of)) if events_src is not None else None
    )
    with stages.stage("rfm") as info:
        thresholds = measure_rfm_thresholds(summary_df)
        rfm_df = with_rfm_scores(summary_df, thresholds)
        info["thresholds"] = thresholds.to_dict()

    with stages.stage("clv_models") as info:
        clv_section: Callable[[], dict[str, Any]]
        btyd_df = summary_df.select(
            "customer_id", "frequency", "recency_weeks", "t_weeks", "monetary"
        )
        try:
            # Each fit is a short Spark job, then seconds of numpy on the driver: side by side.
            bgnbd_fit = background.submit(fit_bgnbd_from_summary, summary_df)
            gamma_gamma = fit_gamma_gamma_from_summary(summary_df)
            bgnbd = bgnbd_fit.result()
        except BtydFitError as exc:
            # Too little history to fit (e.g. no repeat customer): publish without predictions.
            log.warning("clv_models_skipped", reason=str(exc))
            skipped = {"skipped": str(exc)}
            clv_section = skipped.copy
            clv_df = btyd_df.select(
                "customer_id",
                *[F.lit(None).cast("double").alias(c) for c in CLV_COLUMNS],
            )
        else:
            # The holdout check (a refit on a calibration window) only feeds the manifest: it
            # runs in the background while the customer_360 stage keeps the executors busy.
            holdout = background.submit(holdout_check, summary_df, calibration_end)
            clv_section = partial(_clv_section, bgnbd, gamma_gamma, holdout)
            info["bgnbd"] = bgnbd.params
            info["gamma_gamma"] = gamma_gamma.params
            for warning in (*bgnbd.warnings, *gamma_gamma.warnings):
                log.warning("clv_fit_warning", warning=warning)
            clv_df = with_clv_predictions(btyd_df, bgnbd, gamma_gamma)

    model_files: dict[str, dict[str, Any]] = {}
    with stages.stage("churn_model") as info:
        churn_settings = ChurnSettings(
            window_days=settings.churn_window_days,
            train_max_rows=settings.churn_train_max_rows,
            seed=settings.model_seed,
        )
        churn_frames = build_churn_frames(
            None, events_src, support_src, interactions_src, as_of,
            window_days=churn_settings.window_days, cache=keep, purchases_df=summary_df,
        )  # fmt: skip
        # The as-of features, as the API's scorer reads them for a customer id.
        writers.write_table(churn_frames.scoring, path("churn_features"), sort_by=("customer_id",))
        tables["churn_features"] = writers.count_rows(spark, path("churn_features"))
        churn = train_churn_model(churn_frames, churn_settings)
        churn_scores_df: DataFrame | None = None
        if isinstance(churn, ChurnModel):
            churn_section = churn.report
            model_files["churn"] = {**churn.export, "snapshot_id": snapshot_id}
            churn_scores_df = score_customers(churn, churn_frames.scoring)
            info["model"] = churn.model_type
            info["test_roc_auc"] = churn.report["metrics"]["test"]["roc_auc"]
            info["baseline_roc_auc"] = churn.report["metrics"]["baseline_p_alive_test"].get(
                "roc_auc"
            )
        else:
            churn_section = churn
            log.warning("churn_model_skipped", reason=churn["skipped"])

    with stages.stage("clustering") as info:
        # In the foreground, after the churn model: both are hundreds of small Spark jobs
        # (about 0.1 s of scheduling each on 2 cores), and side by side they slowed each other
        # down more than they overlapped (1M: churn training 46 s alone, 130-140 s beside the
        # clustering).
        clustering, clusters_df = _cluster_customers(summary_df, engagement_df, settings, keep)
        if "skipped" in clustering.report:
            log.warning("clustering_skipped", reason=clustering.report["skipped"])
        else:
            info["algorithm"] = clustering.report.get("algorithm")
            info["k"] = clustering.report.get("k")
            info["fit_seconds"] = clustering.report.get("elapsed_seconds")

    with stages.stage("customer_360") as info:
        # Per customer and category, once: preferences here, baskets and insights below.
        customer_categories_df = keep(
            build_customer_categories(fact_df, channels, raw_category_days=raw_category_days)
        )
        customer_360_df = build_customer_360(
            build_customer_profiles(customers_df, summary_df),
            rfm_df,
            build_category_preferences(fact_df, customer_categories_df, channels),
            clv_df,
            engagement_df,
            build_support_summary(support_src, as_of) if support_src is not None else None,
            build_interaction_summary(interactions_src, as_of)
            if interactions_src is not None
            else None,
            loyalty_src,
            as_of,
            churn_df=churn_scores_df,
            clusters_df=clusters_df,
        )
        writers.write_table(customer_360_df, path("customer_360"), sort_by=("customer_id",))
        customer_360_df = writers.read_table(spark, path("customer_360"))
        tables["customer_360"] = info["rows"] = writers.count_rows(spark, path("customer_360"))

    with stages.stage("interactions") as info:
        interactions_fact_df = (
            build_interactions_fact(interactions_src, as_of)
            if interactions_src is not None
            else spark.createDataFrame([], INTERACTIONS_FACT_SCHEMA)
        )
        writers.write_table(
            interactions_fact_df, path("interactions"), sort_by=("customer_id", "interaction_at")
        )
        tables["interactions"] = info["rows"] = writers.count_rows(spark, path("interactions"))

    with stages.stage("insights") as info:
        baskets_df = keep(insights.build_category_baskets(customer_categories_df))
        associations_df = insights.build_category_associations(baskets_df)
        writers.write_table(associations_df, path("category_associations"))
        associations_df = writers.read_table(spark, path("category_associations"))
        insight_tables = {
            "revenue_monthly": insights.build_revenue_monthly(
                fact_df,
                customers_df
                if customers_df is not None
                else spark.createDataFrame([], "customer_id string, segment string"),
            ),
            "category_insights": insights.build_category_insights(customer_categories_df),
            "cross_sell_candidates": insights.build_cross_sell_candidates(
                customer_360_df, associations_df, baskets_df
            ),
        }
        parallel_map(
            lambda item: writers.write_table(item[1], path(item[0])), list(insight_tables.items())
        )
        for table in ("category_associations", *insight_tables):
            tables[table] = writers.count_rows(spark, path(table))
        info["rows"] = {t: tables[t] for t in ("category_associations", *insight_tables)}

    with stages.stage("quality") as info:
        info["checks"] = check_customer_360(customer_360_df, customers_df)

    if options.fail_at_stage == "publish":
        raise PipelineError("injected failure at stage 'publish'")
    schemas = {
        table: [
            f"{f.name} {f.dataType.simpleString()}"
            for f in writers.read_table(spark, path(table)).schema.fields
        ]
        for table in tables
    }
    manifest = {
        "snapshot_id": snapshot_id,
        "org": options.org,
        "as_of": as_of.isoformat(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": snapshots.STATUS_COMPLETE,
        "input": _input_record(input_path, found),
        "options": _options_record(options),
        "sources": counts,
        "tables": {t: {"rows": n, "columns": schemas[t]} for t, n in tables.items()},
        "layouts": {"transactions": transactions_layout},
        "models": {
            "clv": clv_section(),
            "rfm_thresholds": thresholds.to_dict(),
            "churn": churn_section,
            "clustering": clustering.report,
        },
        "quality": info["checks"],
        "spark": {"master": settings.spark_master, "version": spark.version},
    }
    _remove_staging(path("_staging"))
    return RunResult(
        snapshot_id=snapshot_id,
        as_of=as_of,
        tables=tables,
        quarantined={n: c["quarantined_by_reason"] for n, c in counts.items()},
        stage_seconds=stages.seconds,
        seconds=0.0,
        manifest=manifest,
        model_files=model_files,
    )


def _cluster_customers(
    summary_df: DataFrame,
    engagement_df: DataFrame | None,
    settings: PipelineSettings,
    keep: Callable[[DataFrame], DataFrame],
) -> tuple[ClusteringResult, DataFrame]:
    """Behavioural clusters of the purchasing customers and their (persisted) assignments."""
    behaviour_df = summary_df.select(
        "customer_id", "first_purchase_date", "recency_days", "purchase_days", "total_spent"
    )
    if engagement_df is not None:
        behaviour_df = behaviour_df.join(
            engagement_df.select("customer_id", "app_sessions_90d", "web_sessions_90d"),
            on="customer_id",
            how="left",
        )
    else:
        behaviour_df = behaviour_df.select(
            "*", *[F.lit(0).alias(c) for c in ("app_sessions_90d", "web_sessions_90d")]
        )
    clustering = fit_clusters(
        keep(build_cluster_features(behaviour_df)),
        ClusteringSettings(
            k_min=settings.cluster_k_min,
            k_max=max(settings.cluster_k_min, settings.cluster_k_max),
            sample_rows=settings.cluster_sample_rows,
            seed=settings.model_seed,
        ),
    )
    return clustering, keep(clustering.assignments)


def _clv_section(
    bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit, holdout: Future[dict[str, Any]]
) -> dict[str, Any]:
    return ClvModels(bgnbd, gamma_gamma, holdout.result()).to_dict()


def _remove_staging(staging_path: str) -> None:
    shutil.rmtree(Path(staging_path), ignore_errors=True)


__all__ = [
    "INPUTS_UNCHANGED",
    "STAGES",
    "PipelineError",
    "QualityError",
    "RunOptions",
    "RunResult",
    "SkippedRun",
    "run_pipeline",
    "run_pipeline_if_changed",
]
