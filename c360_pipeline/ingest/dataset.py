"""Finding the sources of a raw dataset and validating all of them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from c360_pipeline.ingest.dates import (
    DateOrder,
    DateProfile,
    date_profiles,
    profile_date_columns,
)
from c360_pipeline.ingest.readers import RawSource, SourceError, read_source
from c360_pipeline.ingest.validate import (
    REASON,
    accepted,
    quarantined,
    with_duplicates,
    with_row_checks,
)
from c360_pipeline.schemas import REQUIRED_SOURCES, SOURCES, SourceSchema

# Customers first: the other sources are checked against its accepted ids.
INGEST_ORDER = (
    "customers",
    "products",
    "transactions",
    "loyalty",
    "support_tickets",
    "interactions",
    "digital_events",
)


@dataclass(frozen=True)
class FoundSource:
    """Where a source's files are and in which format."""

    name: str
    path: str
    file_format: str
    files: tuple[tuple[str, int, int], ...]
    """(path, size in bytes, modification time in ms) of every data file: the input fingerprint."""


BROADCAST_ROWS = 5_000_000
"""Known customer ids, duplicated-id hashes and duplicate candidates up to this many rows are
broadcast to the scan of a source instead of shuffling the source (tens of MB at worst)."""

FIRST_ROWS = 10_000
"""Rows the first look reads for day/month dates (see `_first_look`)."""


@dataclass
class ValidatedSource:
    """A source, read, with what its row checks need: the day/month orders of its text dates
    and, for sources that reference customers, the known customer ids.

    Lazy: the rows are checked when the caller stages `checked_df()` (`ingest.staging`) or reads
    `validated_df`.
    """

    found: FoundSource
    raw: RawSource
    date_orders: dict[str, DateOrder | None]
    pending_date_columns: list[str] = field(default_factory=list)
    """Text date columns whose order is still to be decided: the first look saw no day/month
    value in them, so their rows are checked as if none needed an order, and what decides the
    order is counted on the way (`settle_date_orders`)."""
    known_customers_df: DataFrame | None = None
    persisted: list[DataFrame] = field(default_factory=list)
    """Small frames `checked_df` reads from memory: `release()` them once it is staged."""

    def release(self) -> None:
        """Drop the cached frames `checked_df` needs (call after writing it)."""
        for df in self.persisted:
            df.unpersist()

    def checked_df(
        self, date_profile: Observation | None = None, *, defer_duplicates: bool = True
    ) -> DataFrame:
        """The one pass over the raw rows: `with_row_checks`, by default with the duplicates
        left to be found among its written rows; `date_profile` observes what decides the
        pending orders."""
        return with_row_checks(
            self.raw.df,
            self.raw.schema,
            self.date_orders,
            self.known_customers_df,
            raw_record=self.raw.raw_record,
            defer_duplicates=defer_duplicates,
            date_profile=date_profile,
        )

    def date_profile_observation(self) -> Observation | None:
        """An observation for `checked_df` when orders are pending (else None)."""
        if not self.pending_date_columns:
            return None
        return Observation(f"c360_date_profile_{self.raw.schema.name}_{uuid.uuid4().hex}")

    def settle_date_orders(self, observed: Mapping[str, Any]) -> bool:
        """Decide the pending orders from the metrics `checked_df` observed; true when an order
        was decided, so that the rows checked without it must be checked again.

        Raises DateOrderError, as the first look does, for a column that cannot be decided.
        """
        return self._settle(date_profiles(observed, _text_date_columns(self.raw)))

    def _settle(self, profiles: Mapping[str, DateProfile]) -> bool:
        decided = {
            c: profiles[c].decide(self.raw.schema.name, c, None) for c in self.pending_date_columns
        }
        self.pending_date_columns = []
        self.date_orders = {**self.date_orders, **decided}
        return any(order is not None for order in decided.values())

    @property
    def validated_df(self) -> DataFrame:
        """Every row read, typed, with its reason (null when accepted), pending orders settled
        first. Every valid row is a duplicate candidate: for small sources and tests."""
        if self.pending_date_columns:
            self._settle(profile_date_columns(self.raw.df, self.pending_date_columns))
        return with_duplicates(self.checked_df(defer_duplicates=False), self.raw.schema)

    @property
    def accepted_df(self) -> DataFrame:
        """Accepted rows with typed canonical columns."""
        return accepted(self.validated_df, self.raw.schema)

    @property
    def quarantine_df(self) -> DataFrame:
        """Quarantined rows: source, reason, column, raw_record."""
        return quarantined(self.validated_df, self.raw.schema)


def _list_files(spark: SparkSession, path: str) -> list[tuple[str, int, int]]:
    """Data files under a path (any Hadoop filesystem), skipping `_` and `.` names."""
    context: Any = spark.sparkContext  # py4j handles are untyped
    hadoop_path = context._jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(context._jsc.hadoopConfiguration())
    if not fs.exists(hadoop_path):
        return []
    files = []
    iterator = fs.listFiles(hadoop_path, True)
    while iterator.hasNext():
        status = iterator.next()
        name = status.getPath().getName()
        relative = status.getPath().toString()
        if name.startswith(("_", ".")) or "/_" in relative.replace(path, ""):
            continue
        files.append((relative, int(status.getLen()), int(status.getModificationTime())))
    return sorted(files)


def find_sources(spark: SparkSession, input_path: str) -> dict[str, FoundSource]:
    """Sources present under the input: `<name>/` directories or `<name>.csv|.parquet` files."""
    found: dict[str, FoundSource] = {}
    base = input_path.rstrip("/")
    for name in SOURCES:
        for candidate in (f"{base}/{name}", f"{base}/{name}.csv", f"{base}/{name}.parquet"):
            files = _list_files(spark, candidate)
            if not files:
                continue
            formats = {
                "parquet" if f[0].endswith(".parquet") else "csv"
                for f in files
                if f[0].endswith((".csv", ".parquet", ".txt"))
            }
            if len(formats) != 1:
                raise SourceError(
                    f"{candidate} must hold only .csv or only .parquet files (found "
                    f"{', '.join(sorted(formats)) or 'neither'})"
                )
            found[name] = FoundSource(name, candidate, formats.pop(), tuple(files))
            break
    missing = [s for s in REQUIRED_SOURCES if s not in found]
    if missing:
        raise SourceError(
            f"no {', '.join(missing)} source under {input_path} (expected a "
            f"{missing[0]}/ directory or {missing[0]}.csv)"
        )
    return found


def _text_date_columns(raw: RawSource) -> list[str]:
    """Date and timestamp columns read as text (their day/month order needs deciding)."""
    schema: SourceSchema = raw.schema
    return [
        c
        for c in schema.column_names
        if schema.spec(c).dtype in ("date", "timestamp")
        and isinstance(raw.df.schema[c].dataType, T.StringType)
    ]


def _first_look(
    raw: RawSource, explicit: DateOrder | None
) -> tuple[dict[str, DateOrder | None], list[str]]:
    """The day/month orders of a source's text date columns, and which are still pending.

    Given an explicit order, that. Else up to FIRST_ROWS rows from the start of the file splits
    are looked at: when no column shows a day/month value there (ISO dates, say), the orders are
    left pending, to be settled from counts taken while the rows are staged; when one does, the
    whole of those columns is profiled now (`raw` should read only the columns it needs).
    """
    text_dates = _text_date_columns(raw)
    if explicit is not None or not text_dates:
        return dict.fromkeys(text_dates, explicit), []
    first_rows_df = raw.df.select(*text_dates).limit(FIRST_ROWS)
    if not any(p.needs_order for p in profile_date_columns(first_rows_df, text_dates).values()):
        return dict.fromkeys(text_dates, None), text_dates
    profiles = profile_date_columns(raw.df, text_dates)
    return {c: p.decide(raw.schema.name, c, None) for c, p in profiles.items()}, []


def known_customer_ids(checked_df: DataFrame) -> DataFrame:
    """The distinct customer ids of the customers rows that pass their row checks.

    `checked_df`: the customers' checked rows, as `with_row_checks` gives them or as staged.
    Duplicated ids do not change the set.
    """
    return (
        checked_df.where(F.col(REASON).isNull() & F.col("customer_id").isNotNull())
        .select("customer_id")
        .distinct()
    )


def _known_customers(customers: ValidatedSource) -> DataFrame:
    """`known_customer_ids` of the customers source, cached, from a pass of its own over the raw
    rows. Pending date orders of the customers source are settled on the way (and the ids taken
    again if that decided one)."""
    observation = customers.date_profile_observation()
    ids_df = known_customer_ids(customers.checked_df(observation)).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    ids_df.count()
    if observation is not None and customers.settle_date_orders(observation.get):
        ids_df.unpersist()
        return _known_customers(customers)
    return ids_df


def attach_known_customers(
    validated: Mapping[str, ValidatedSource], known_customers_df: DataFrame
) -> None:
    """Give every source that references customers the known ids for its unknown-customer
    check: cached (one id per customer, read by every such source) and, when few enough,
    broadcast. The sources' `release()` drops the cache once they are staged."""
    ids_df = known_customers_df
    if not ids_df.storageLevel.useMemory:
        ids_df = ids_df.persist(StorageLevel.MEMORY_AND_DISK)
    known_customers_df = F.broadcast(ids_df) if ids_df.count() <= BROADCAST_ROWS else ids_df
    for source in validated.values():
        if source.raw.schema.references_customers:
            source.known_customers_df = known_customers_df
            source.persisted = [ids_df]


def read_dataset(
    spark: SparkSession,
    found: dict[str, FoundSource],
    *,
    column_maps: dict[str, dict[str, str]] | None = None,
    date_order: DateOrder | None = None,
) -> dict[str, ValidatedSource]:
    """Read every found source and take a first look at it: the day/month orders it needs.

    The sources that reference customers get no known customer ids here: pass them with
    `attach_known_customers` before their rows are checked (`validate_dataset` does it all).
    """
    column_maps = column_maps or {}
    unknown_maps = set(column_maps) - set(SOURCES)
    if unknown_maps:
        raise SourceError(f"column map names unknown source(s): {', '.join(sorted(unknown_maps))}")
    names = [n for n in INGEST_ORDER if n in found]

    # The first look reads a few columns of each source. CSV column pruning (off in the main
    # session, see spark.py) lets it skip converting the rest; which short or long rows it
    # counts as malformed does not matter for a date profile.
    profiling = spark.newSession()
    profiling.conf.set("spark.sql.csv.parser.columnPruning.enabled", "true")

    def read_and_look(name: str) -> ValidatedSource:
        source = found[name]
        schema, column_map = SOURCES[name], column_maps.get(name)
        raw = read_source(spark, schema, source.path, source.file_format, column_map)
        pruned = read_source(profiling, schema, source.path, source.file_format, column_map)
        orders, pending = _first_look(pruned, date_order)
        return ValidatedSource(source, raw, orders, pending)

    # Header reads and first looks are independent jobs: run them side by side.
    with ThreadPoolExecutor(max_workers=min(4, max(1, len(names)))) as pool:
        return dict(zip(names, pool.map(read_and_look, names), strict=True))


def validate_dataset(
    spark: SparkSession,
    found: dict[str, FoundSource],
    *,
    column_maps: dict[str, dict[str, str]] | None = None,
    date_order: DateOrder | None = None,
) -> dict[str, ValidatedSource]:
    """`read_dataset`, then the known customer ids for the unknown-customer check, from a pass
    of their own over the customers source.

    The row checks run when the caller stages each source (`ingest.staging`) or reads
    `validated_df`. (The pipeline stages the customers first instead, and takes the known ids
    from the staged rows: see `run.py`.)
    """
    validated = read_dataset(spark, found, column_maps=column_maps, date_order=date_order)
    if "customers" in validated:
        attach_known_customers(validated, _known_customers(validated["customers"]))
    return validated


def count_raw_rows(spark: SparkSession, found: FoundSource) -> int:
    """Rows in a source counted independently of the CSV parser (for the conservation check).

    CSV: non-blank text lines minus one header line per file; Parquet: the footers' row counts.
    """
    if found.file_format == "parquet":
        return spark.read.parquet(found.path).count()
    line = F.col("value")
    # Blank means empty or spaces only (what trim removes). A line not starting with a space is
    # blank only when empty, so only lines that start with one are trimmed: trim copies the line
    # (7.5 vs 3.1 s over the 20M lines of the 1M benchmark's transactions).
    is_blank = (line == "") | (line.startswith(" ") & (F.trim(line) == ""))
    lines = spark.read.text([f[0] for f in found.files])
    non_blank = lines.where(~is_blank).count()
    return non_blank - len(found.files)
