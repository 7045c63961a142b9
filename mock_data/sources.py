"""Builders for each synthetic raw source, all as Spark DataFrames.

The generative story (documented in docs/mock-data.md):
- each customer is acquired on a day in the window (more recent days more likely), buys at a
  personal weekly rate drawn from a skewed Gamma distribution, and, unless they are one of the
  loyal "stayers", stops buying after an exponentially distributed lifetime: purchases form a
  Poisson process over the active period, thinned by seasonality (December peak, weekends);
- a customer's price affinity and favourite category decide which products they buy, their
  generation decides their channel preference and app use;
- loyalty tiers follow trailing 12-month spend; support tickets and complaints are more frequent
  and less satisfied for customers who go on to churn, and digital activity stops when they do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.functions import pandas_udf

from mock_data import catalog
from mock_data.randomness import (
    categorical,
    exponential,
    gamma_quantile,
    normal,
    poisson_ppf,
    poisson_quantile,
    uniform,
)

RATE_SHAPE = 0.6
"""Gamma shape of the weekly purchase rate: < 1 gives many occasional and a few heavy buyers."""
RATE_MEAN_PER_WEEK = 0.45
STAYER_SHARE = 0.4
"""Share of customers who never stop buying inside the window."""
MEAN_LIFETIME_WEEKS = 40.0
NO_PURCHASE_SHARE = 0.06
"""Share of customers who registered but never bought."""
MAX_PURCHASES = 4000
"""Cap per customer; transaction ids leave room for 10,000."""
SEASON_AMPLITUDE = 0.3
WEEKEND_BOOST = 1.12
_SEASON_MAX = (1 + SEASON_AMPLITUDE) * WEEKEND_BOOST
_SEASON_MEAN = 1 + (WEEKEND_BOOST - 1) * 2 / 7


@dataclass(frozen=True)
class Window:
    """The simulated calendar: `days` days ending on `end_date` (inclusive)."""

    end_date: date
    days: int

    @property
    def start_date(self) -> date:
        """First day of the window."""
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def start_epoch_seconds(self) -> int:
        """Midnight UTC of the first day, as Unix seconds."""
        start = datetime(
            self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC
        )
        return int(start.timestamp())


def _day_to_date(window: Window, day: Column) -> Column:
    return F.date_add(F.lit(window.start_date), day.cast("int"))


def _day_to_timestamp(window: Window, day: Column, seconds_of_day: Column) -> Column:
    seconds = F.lit(window.start_epoch_seconds) + day.cast("long") * 86400 + seconds_of_day
    return F.timestamp_seconds(seconds.cast("long"))


def _padded_id(prefix: str, number: Column, width: int) -> Column:
    return F.concat(F.lit(prefix), F.lpad(number.cast("string"), width, "0"))


def customer_id_col(idx: Column) -> Column:
    """Customer id for a 0-based customer index: C00000001, C00000002, ..."""
    return _padded_id("C", idx + 1, 8)


def build_products(spark: SparkSession, seed: int) -> DataFrame:
    """Product catalogue: 30 products per category, price rising with the index in a category."""
    per_cat = catalog.PRODUCTS_PER_CATEGORY
    n = per_cat * len(catalog.CATEGORIES)
    idx = F.col("id")
    cat_idx = (idx / per_cat).cast("int")
    rank = idx % per_cat

    def by_category(values: list[object]) -> Column:
        expr = F.when(cat_idx == 0, F.lit(values[0]))
        for i, value in enumerate(values[1:], start=1):
            expr = expr.when(cat_idx == i, F.lit(value))
        return expr

    cats = catalog.CATEGORIES
    low = by_category([c.min_price for c in cats])
    high = by_category([c.max_price for c in cats])
    margin = by_category([c.margin for c in cats]) + F.lit(0.05) * normal(seed, "p_margin", idx)
    # Log-spaced price ladder inside a category with a little noise, so rank ~ price.
    position = (rank + F.lit(0.5) + F.lit(0.3) * normal(seed, "p_price", idx)) / F.lit(per_cat)
    price = F.round(low * F.pow(high / low, F.greatest(F.lit(0.0), position)), 2)
    brand_pick = (uniform(seed, "p_brand", idx) * 5).cast("int")
    noun_pick = (uniform(seed, "p_noun", idx) * 6).cast("int")
    brand = F.element_at(
        by_category([list(c.brands) for c in cats]).cast("array<string>"), brand_pick + 1
    )
    noun = F.element_at(
        by_category([list(c.nouns) for c in cats]).cast("array<string>"), noun_pick + 1
    )
    suffix = F.element_at(
        F.array(*[F.lit(s) for s in catalog.MODEL_SUFFIXES]),
        (rank * len(catalog.MODEL_SUFFIXES) / per_cat).cast("int") + 1,
    )
    margin_clamped = F.least(F.greatest(margin, F.lit(0.05)), F.lit(0.8))
    return spark.range(n, numPartitions=1).select(
        _padded_id("P", idx + 1, 5).alias("product_id"),
        F.concat_ws(" ", brand, noun, suffix).alias("name"),
        by_category([c.name for c in cats]).alias("category"),
        brand.alias("brand"),
        price.cast("double").alias("unit_price"),
        F.round(price * (F.lit(1.0) - margin_clamped), 2).cast("double").alias("unit_cost"),
    )


def build_customer_latents(
    spark: SparkSession, customers: int, seed: int, window: Window, partitions: int
) -> DataFrame:
    """One row per customer with the hidden behaviour that drives every source."""
    idx = F.col("idx")
    days = window.days

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx)

    gen_names = [g[0] for g in catalog.GENERATIONS]
    gen_idx = categorical(
        u("generation"), list(range(len(gen_names))), [g[3] for g in catalog.GENERATIONS]
    )
    first_year = F.element_at(F.array(*[F.lit(g[1]) for g in catalog.GENERATIONS]), gen_idx + 1)
    last_year = F.element_at(F.array(*[F.lit(g[2]) for g in catalog.GENERATIONS]), gen_idx + 1)
    app_pref = F.element_at(F.array(*[F.lit(g[4]) for g in catalog.GENERATIONS]), gen_idx + 1)

    base = spark.range(customers, numPartitions=partitions).withColumnRenamed("id", "idx")
    latents_df = base.select(
        idx,
        customer_id_col(idx).alias("customer_id"),
        # Acquisition skews recent: a growing business.
        F.floor(F.lit(days) * F.pow(u("first"), F.lit(0.8))).cast("int").alias("first_day"),
        F.floor(exponential(u("signup_lag"), 20.0)).cast("int").alias("signup_lag_days"),
        (u("buyer") >= F.lit(NO_PURCHASE_SHARE)).alias("has_purchases"),
        u("rate").alias("rate_draw"),
        u("n_candidates").alias("candidates_draw"),
        u("digital_rate").alias("digital_draw"),
        (u("stayer") < F.lit(STAYER_SHARE)).alias("is_stayer"),
        exponential(u("lifetime"), MEAN_LIFETIME_WEEKS * 7).alias("lifetime_days"),
        categorical(u("region"), list(catalog.REGIONS), list(catalog.REGION_WEIGHTS)).alias(
            "region"
        ),
        categorical(
            u("segment"), list(catalog.CUSTOMER_SEGMENTS), list(catalog.CUSTOMER_SEGMENT_WEIGHTS)
        ).alias("segment"),
        gen_idx.alias("generation_idx"),
        F.element_at(F.array(*[F.lit(g) for g in gen_names]), gen_idx + 1).alias("generation"),
        (first_year + F.floor(u("birth_year") * (last_year - first_year + 1)))
        .cast("int")
        .alias("birth_year"),
        F.floor(u("birth_day") * 365).cast("int").alias("birth_day_of_year"),
        app_pref.alias("app_preference"),
        u("affinity").alias("affinity_draw"),
        categorical(
            u("fav_category"),
            list(range(len(catalog.CATEGORIES))),
            [c.weight for c in catalog.CATEGORIES],
        ).alias("fav_category_idx"),
        u("channel").alias("channel_draw"),
        u("app_user").alias("app_user_draw"),
        u("web_user").alias("web_user_draw"),
    )
    churn_day = F.when(F.col("is_stayer"), F.lit(10 * days)).otherwise(
        F.col("first_day") + F.col("lifetime_days")
    )
    # Corporate buyers pick pricier products.
    affinity = F.when(
        F.col("segment") == "Corporate", F.pow(F.col("affinity_draw"), F.lit(0.6))
    ).otherwise(F.col("affinity_draw"))
    pref_channel = (
        F.when(F.col("channel_draw") < F.col("app_preference"), F.lit("mobile_app"))
        .when(
            F.col("channel_draw") < F.col("app_preference") + (1 - F.col("app_preference")) / 2,
            F.lit("online"),
        )
        .otherwise(F.lit("in_store"))
    )
    # Whole days, so no purchase can fall after the churn date.
    active_end = F.floor(F.least(churn_day, F.lit(float(days - 1)))).cast("int")
    timed_df = latents_df.select(
        "*",
        F.floor(churn_day).cast("int").alias("churn_day"),
        (churn_day < F.lit(days)).alias("is_churned"),
        active_end.alias("active_end_day"),
        ((active_end - F.col("first_day")) / 7.0).alias("active_weeks"),
        affinity.alias("affinity"),
        pref_channel.alias("preferred_channel"),
        (F.col("app_user_draw") < F.col("app_preference") + F.lit(0.15)).alias("is_app_user"),
        (F.col("web_user_draw") < F.lit(0.75)).alias("is_web_user"),
    )
    # One pandas UDF for every scipy draw, so each task starts one Python worker, not three.
    behaviour = _behaviour_draws(
        F.col("rate_draw"), F.col("candidates_draw"), F.col("digital_draw"), F.col("active_weeks")
    )
    return timed_df.select(
        "*",
        behaviour["rate_per_week"].alias("rate_per_week"),
        behaviour["n_candidates"].alias("n_candidates"),
        behaviour["digital_intensity"].alias("digital_intensity"),
    ).drop(
        "affinity_draw", "channel_draw", "app_user_draw", "web_user_draw", "rate_draw",
        "candidates_draw", "digital_draw",
    )  # fmt: skip


_BEHAVIOUR_SCHEMA = T.StructType(
    [
        T.StructField("rate_per_week", T.DoubleType()),
        T.StructField("n_candidates", T.IntegerType()),
        T.StructField("digital_intensity", T.DoubleType()),
    ]
)


@pandas_udf(_BEHAVIOUR_SCHEMA)  # type: ignore[call-overload]
def _behaviour_draws(
    rate_u: pd.Series, candidates_u: pd.Series, digital_u: pd.Series, active_weeks: pd.Series
) -> pd.DataFrame:
    """Purchase rate (Gamma), candidate purchase count (Poisson) and digital intensity (Gamma)."""
    rate = gamma_quantile(rate_u.to_numpy(), RATE_SHAPE) * (RATE_MEAN_PER_WEEK / RATE_SHAPE)
    # Candidates at the peak seasonal intensity; thinning keeps rate x seasonality on average.
    expected = rate * active_weeks.to_numpy(dtype="float64") * (_SEASON_MAX / _SEASON_MEAN)
    candidates = np.minimum(poisson_quantile(candidates_u.to_numpy(), expected), MAX_PURCHASES - 1)
    return pd.DataFrame(
        {
            "rate_per_week": rate,
            "n_candidates": candidates.astype("int32"),
            "digital_intensity": gamma_quantile(digital_u.to_numpy(), 1.2),
        }
    )


def build_customers(latents_df: DataFrame, seed: int, window: Window) -> DataFrame:
    """The customers source: profile, contact, signup, birth date, region, segment, status."""
    idx = F.col("idx")

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx)

    first = F.element_at(
        F.array(*[F.lit(n) for n in catalog.FIRST_NAMES]),
        (u("first_name") * len(catalog.FIRST_NAMES)).cast("int") + 1,
    )
    last = F.element_at(
        F.array(*[F.lit(n) for n in catalog.LAST_NAMES]),
        (u("last_name") * len(catalog.LAST_NAMES)).cast("int") + 1,
    )
    domain = F.element_at(
        F.array(*[F.lit(d) for d in catalog.EMAIL_DOMAINS]),
        (u("domain") * len(catalog.EMAIL_DOMAINS)).cast("int") + 1,
    )
    email = F.lower(
        F.concat(first, F.lit("."), F.regexp_replace(last, " ", ""), (idx + 1).cast("string"),
                 F.lit("@"), domain)
    )  # fmt: skip
    status_draw = u("status")
    status = (
        F.when(F.col("is_churned") & (status_draw < 0.2), F.lit("closed"))
        .when(F.col("is_churned") & (status_draw < 0.55), F.lit("inactive"))
        .when(status_draw < 0.01, F.lit("closed"))
        .otherwise(F.lit("active"))
    )
    birth_date = F.date_add(
        F.make_date(F.col("birth_year"), F.lit(1), F.lit(1)), F.col("birth_day_of_year")
    )
    return latents_df.select(
        F.col("customer_id"),
        F.concat_ws(" ", first, last).alias("name"),
        email.alias("email"),
        _day_to_date(window, F.col("first_day") - F.col("signup_lag_days")).alias("signup_date"),
        birth_date.alias("birth_date"),
        F.col("region"),
        F.col("segment"),
        status.alias("status"),
    )


def _seasonality(d: Column) -> Column:
    """Relative purchase intensity on a date: a December peak and busier weekends."""
    yearly = F.lit(1.0) + F.lit(SEASON_AMPLITUDE) * F.cos(
        F.lit(2 * math.pi) * (F.dayofyear(d) - F.lit(350)) / F.lit(365.25)
    )
    weekend = F.when(F.dayofweek(d).isin(1, 7), F.lit(WEEKEND_BOOST)).otherwise(F.lit(1.0))
    return yearly * weekend


def build_transactions(
    latents_df: DataFrame, products_df: DataFrame, seed: int, window: Window
) -> DataFrame:
    """The transactions source: one row per purchase, with product, quantity, amount, channel."""
    idx, k = F.col("idx"), F.col("k")
    buyers_df = latents_df.where(F.col("has_purchases")).select(
        "idx", "customer_id", "first_day", "active_end_day", "affinity", "fav_category_idx",
        "preferred_channel", "region",
        "n_candidates",
    )  # fmt: skip

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx, k)

    # k = 0 is the first purchase; k >= 1 are candidate repeat purchases of a Poisson process
    # on the active period, thinned by seasonality.
    exploded_df = buyers_df.select(
        "*", F.explode(F.sequence(F.lit(0), F.col("n_candidates"))).alias("k")
    )
    span = F.col("active_end_day") - F.col("first_day")
    day = F.when(k == 0, F.col("first_day")).otherwise(
        F.floor(F.col("first_day") + u("when") * (span + F.lit(1)))
    )
    dated_df = exploded_df.select("*", _day_to_date(window, day).alias("transaction_date"))
    kept_df = dated_df.where(
        (k == 0) | (u("thin") * F.lit(_SEASON_MAX) < _seasonality(F.col("transaction_date")))
    )

    cat_count = len(catalog.CATEGORIES)
    per_cat = catalog.PRODUCTS_PER_CATEGORY
    category_idx = F.when(u("use_fav") < 0.55, F.col("fav_category_idx")).otherwise(
        categorical(u("category"), list(range(cat_count)), [c.weight for c in catalog.CATEGORIES])
    )
    rank = F.floor(
        F.least(
            F.greatest(F.col("affinity") + F.lit(0.22) * normal(seed, "rank", idx, k), F.lit(0.0)),
            F.lit(0.9999),
        )
        * per_cat
    )
    product_id = _padded_id("P", category_idx * per_cat + rank + 1, 5)
    channel = F.when(u("use_pref_channel") < 0.75, F.col("preferred_channel")).otherwise(
        categorical(u("channel"), list(catalog.CHANNELS), [1.0, 1.0, 1.0])
    )
    store = F.concat(
        F.lit("S-"),
        F.substring(F.col("region"), 1, 1),
        F.lpad((F.floor(u("store") * catalog.STORES_PER_REGION) + 1).cast("string"), 2, "0"),
    )
    picked_df = kept_df.select(
        _padded_id("TXN", idx * 10000 + k, 13).alias("transaction_id"),
        "customer_id",
        "transaction_date",
        product_id.alias("product_id"),
        channel.alias("channel"),
        "region",
        u("qty").alias("qty_draw"),
        u("discount").alias("discount_draw"),
        store.alias("store_code"),
    )
    priced_df = picked_df.join(
        F.broadcast(products_df.select("product_id", "category", "unit_price")),
        on="product_id",
        how="inner",
    )
    bulk = F.col("category").isin("Grocery", "Beauty")
    quantity = F.lit(1) + F.floor(
        exponential(F.col("qty_draw"), F.when(bulk, F.lit(1.2)).otherwise(F.lit(0.25)))
    )
    discount = categorical(F.col("discount_draw"), [0.0, 0.1, 0.25], [0.72, 0.2, 0.08])
    amount = F.round(quantity * F.col("unit_price") * (F.lit(1.0) - discount), 2)
    return priced_df.select(
        "transaction_id",
        "customer_id",
        "transaction_date",
        "product_id",
        "category",
        quantity.cast("int").alias("quantity"),
        amount.cast("double").alias("amount"),
        "channel",
        F.when(F.col("channel") == "in_store", F.col("store_code")).alias("store_id"),
        "region",
    )


def build_customer_activity(transactions_df: DataFrame, window: Window) -> DataFrame:
    """Per-customer purchase totals the other sources depend on (count, spend, 12-month spend)."""
    last_year_start = F.lit(window.end_date - timedelta(days=364))
    return transactions_df.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("n_transactions"),
        F.sum("amount").alias("total_spend"),
        F.sum(F.when(F.col("transaction_date") >= last_year_start, F.col("amount"))).alias(
            "spend_12m"
        ),
    )


def build_loyalty(
    latents_df: DataFrame, activity_df: DataFrame, seed: int, window: Window
) -> DataFrame:
    """The loyalty source: enrolled buyers with a tier that follows trailing 12-month spend."""
    idx = F.col("idx")

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx)

    joined_df = latents_df.join(activity_df, on="customer_id", how="inner")
    enrol_probability = F.lit(0.25) + F.lit(0.6) * (
        F.lit(1.0) - F.exp(-F.col("n_transactions") / F.lit(8.0))
    )
    noisy_spend = F.coalesce(F.col("spend_12m"), F.lit(0.0)) * F.exp(
        F.lit(0.3) * normal(seed, "tier_noise", idx)
    )
    tiers = list(zip(catalog.LOYALTY_TIERS, catalog.LOYALTY_TIER_MIN_SPEND, strict=True))
    tier_expr = F.when(noisy_spend >= F.lit(tiers[-1][1]), F.lit(tiers[-1][0]))
    for name, threshold in reversed(tiers[1:-1]):
        tier_expr = tier_expr.when(noisy_spend >= F.lit(threshold), F.lit(name))
    tier = tier_expr.otherwise(F.lit(tiers[0][0]))
    enrol_lag = F.floor(
        u("enrol_lag") * F.least(F.lit(90.0), F.col("active_end_day") - F.col("first_day") + 1)
    )
    return joined_df.where(u("enrolled") < enrol_probability).select(
        "customer_id",
        tier.alias("tier"),
        F.floor(F.col("total_spend") * (F.lit(0.55) + F.lit(0.45) * u("points")))
        .cast("long")
        .alias("points"),
        _day_to_date(window, F.col("first_day") + enrol_lag).alias("enrolled_date"),
    )


def _explode_events(
    df: DataFrame, count: Column, seed: int, stream: str, cap: int = 500
) -> DataFrame:
    """Repeat each customer row `count` times with an event index `e` (0-based)."""
    n = F.least(poisson_ppf(uniform(seed, stream, F.col("idx")), count), F.lit(cap)).cast("int")
    with_n_df = df.select("*", n.alias("_n")).where(F.col("_n") > 0)
    return with_n_df.select("*", F.explode(F.sequence(F.lit(0), F.col("_n") - 1)).alias("e")).drop(
        "_n"
    )


def build_support_tickets(
    latents_df: DataFrame, activity_df: DataFrame, seed: int, window: Window
) -> DataFrame:
    """The support_tickets source; churners open more tickets and are less satisfied."""
    days = window.days
    joined_df = latents_df.join(activity_df, on="customer_id", how="left")
    churned = F.col("is_churned").cast("double")
    mean_tickets = (
        F.lit(0.05)
        + F.lit(0.015) * F.coalesce(F.col("n_transactions"), F.lit(0))
        + F.lit(0.6) * churned
    )
    events_df = _explode_events(joined_df, mean_tickets, seed, "n_tickets", cap=200)
    idx, e = F.col("idx"), F.col("e")

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx, e)

    # Churners' tickets cluster towards the end of their active period.
    end = F.least(F.col("active_end_day") + F.lit(20), F.lit(days - 1))
    position = F.when(F.col("is_churned"), F.pow(u("when"), F.lit(0.4))).otherwise(u("when"))
    day = F.floor(F.col("first_day") + position * (end - F.col("first_day") + 1))
    opened_at = _day_to_timestamp(window, day, F.floor(u("time") * 86400))
    priority_idx = categorical(u("priority"), list(range(4)), list(catalog.TICKET_PRIORITY_WEIGHTS))
    median_hours = F.element_at(
        F.array(*[F.lit(h) for h in catalog.TICKET_MEDIAN_HOURS]), priority_idx + 1
    )
    resolution_hours = median_hours * F.exp(F.lit(0.8) * normal(seed, "resolution", idx, e))
    closed_at_candidate = F.timestamp_seconds(
        (F.unix_seconds(opened_at) + F.round(resolution_hours * 3600)).cast("long")
    )
    window_end = F.lit(window.start_epoch_seconds + days * 86400)
    is_resolved = F.unix_seconds(closed_at_candidate) < window_end
    status = (
        F.when(~is_resolved & (u("status") < 0.5), F.lit("open"))
        .when(~is_resolved, F.lit("in_progress"))
        .when(u("status") < 0.8, F.lit("resolved"))
        .otherwise(F.lit("closed"))
    )
    score = (
        F.lit(4.3)
        - F.lit(0.9) * churned
        - F.lit(0.5) * F.log10(resolution_hours + F.lit(1.0))
        + F.lit(0.8) * normal(seed, "satisfaction", idx, e)
    )
    satisfaction = F.when(
        is_resolved & (u("answered") < 0.7),
        F.least(F.greatest(F.round(score), F.lit(1.0)), F.lit(5.0)).cast("int"),
    )
    return events_df.select(
        _padded_id("TK", idx * 1000 + e, 11).alias("ticket_id"),
        "customer_id",
        opened_at.alias("opened_at"),
        F.when(is_resolved, closed_at_candidate).alias("closed_at"),
        categorical(u("type"), list(catalog.TICKET_TYPES), list(catalog.TICKET_TYPE_WEIGHTS)).alias(
            "ticket_type"
        ),
        status.alias("status"),
        F.element_at(
            F.array(*[F.lit(p) for p in catalog.TICKET_PRIORITIES]), priority_idx + 1
        ).alias("priority"),
        satisfaction.alias("satisfaction_score"),
        categorical(u("channel"), list(catalog.TICKET_CHANNELS), [0.35, 0.3, 0.25, 0.1]).alias(
            "channel"
        ),
    )


def build_interactions(
    latents_df: DataFrame, activity_df: DataFrame, seed: int, window: Window
) -> DataFrame:
    """The interactions source: calls, emails, meetings, tickets, complaints and feedback."""
    days = window.days
    joined_df = latents_df.join(activity_df, on="customer_id", how="left")
    churned = F.col("is_churned").cast("double")
    corporate = (F.col("segment") != "Consumer").cast("double")
    mean_count = (
        F.lit(1.2)
        + F.lit(0.3) * F.sqrt(F.coalesce(F.col("n_transactions"), F.lit(0)).cast("double"))
        + F.lit(1.0) * churned
        + F.lit(1.5) * corporate
    )
    events_df = _explode_events(joined_df, mean_count, seed, "n_interactions", cap=300)
    idx, e = F.col("idx"), F.col("e")

    def u(stream: str) -> Column:
        return uniform(seed, stream, idx, e)

    start = F.greatest(F.col("first_day") - F.col("signup_lag_days"), F.lit(0))
    end = F.least(F.col("active_end_day") + F.lit(45), F.lit(days - 1))
    day = F.floor(start + u("when") * (end - start + 1))
    interaction_at = _day_to_timestamp(window, day, F.lit(8 * 3600) + F.floor(u("time") * 36000))
    type_weights = [0.25, 0.35, 0.08, 0.12, 0.08, 0.12]
    itype = (
        F.when(F.col("is_churned") & (u("complaint") < 0.12), F.lit("complaint"))
        .when((corporate > 0) & (u("meeting") < 0.15), F.lit("meeting"))
        .otherwise(categorical(u("type"), list(catalog.INTERACTION_TYPES), type_weights))
    )
    recent = day >= F.lit(days - 14)
    status = (
        F.when(recent & (u("status") < 0.35), F.lit("pending"))
        .when(recent & (u("status") < 0.7), F.lit("in_progress"))
        .when(u("status") < 0.1, F.lit("cancelled"))
        .otherwise(F.lit("completed"))
    )
    channel = (
        F.when(itype == "call", F.lit("phone"))
        .when(itype == "email", F.lit("email"))
        .when(itype == "meeting", F.lit("in_person"))
        .otherwise(categorical(u("channel"), list(catalog.INTERACTION_CHANNELS), [1, 1, 0.3, 1, 1]))
    )
    duration = F.when(
        itype.isin("call", "meeting", "complaint"),
        F.lit(2)
        + F.floor(exponential(u("duration"), F.when(itype == "meeting", 40.0).otherwise(8.0))),
    )
    return events_df.select(
        _padded_id("INT", idx * 1000 + e, 11).alias("interaction_id"),
        "customer_id",
        itype.alias("interaction_type"),
        status.alias("status"),
        interaction_at.alias("interaction_at"),
        channel.alias("channel"),
        duration.cast("int").alias("duration_minutes"),
    )


def build_digital_events(latents_df: DataFrame, seed: int, window: Window) -> DataFrame:
    """The digital_events source: daily sessions per customer, channel (app/web) and event type."""
    days = window.days
    frames = []
    for channel, flag, weekly in (("app", "is_app_user", 0.16), ("web", "is_web_user", 0.1)):
        users_df = latents_df.where(F.col(flag))
        start = F.greatest(F.col("first_day") - F.lit(30), F.lit(0))
        end = F.least(F.col("active_end_day") + F.lit(10), F.lit(days - 1))
        weeks = (end - start + F.lit(1)) / F.lit(7.0)
        mean_days = F.col("digital_intensity") * F.lit(weekly) * weeks
        events_df = _explode_events(users_df, mean_days, seed, f"n_{channel}_days", cap=1500)
        idx, e = F.col("idx"), F.col("e")
        day = F.floor(start + uniform(seed, f"{channel}_when", idx, e) * (end - start + 1))
        frames.append(
            events_df.select(
                "customer_id",
                _day_to_date(window, day).alias("event_date"),
                F.lit(channel).alias("channel"),
                categorical(
                    uniform(seed, f"{channel}_type", idx, e),
                    list(catalog.DIGITAL_EVENT_TYPES),
                    list(catalog.DIGITAL_EVENT_WEIGHTS),
                ).alias("event_type"),
                (F.lit(1) + F.floor(exponential(uniform(seed, f"{channel}_sessions", idx, e), 0.8)))
                .cast("int")
                .alias("session_count"),
            )
        )
    return frames[0].unionByName(frames[1])


def build_customer_truth(latents_df: DataFrame, window: Window) -> DataFrame:
    """The hidden truth behind each customer, for evaluating churn and CLV models."""
    return latents_df.select(
        "customer_id",
        "has_purchases",
        "rate_per_week",
        "is_stayer",
        "is_churned",
        F.when(F.col("is_churned"), _day_to_date(window, F.col("churn_day"))).alias("churn_date"),
        "generation",
        "preferred_channel",
        "is_app_user",
    )
