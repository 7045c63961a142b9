"""Insight tables: monthly revenue, category insights, category associations, cross-sell.

Input is the enriched transactions fact (one row per accepted transaction up to the as-of date)
or its per-customer-and-category aggregate (`purchases.build_customer_categories`, for the
category insights and the baskets) and, for the segment, the conformed customers. Ratios are
null, never an error, when their denominator is zero or null. Money columns are not rounded.

`revenue_monthly` — one row per (month_date, customer_segment, category, channel) that has at
least one transaction:
- month_date (date): first day of the transaction's month, `trunc(transaction_date, 'month')`.
- customer_segment (string): customers.segment; 'Unknown' when the segment is null or the
  customer has no customers row.
- category (string): transaction category; 'Unknown' when null.
- channel (string): transaction channel (online | in_store | mobile_app); 'unknown' when null.
- revenue (double): sum(amount).
- orders (bigint): number of transactions.
- customers (bigint): number of distinct customer_id.
- gross_margin (double): sum of the known gross_margin values (rows with a unit cost); null when
  no row of the group has one.
- units (bigint): sum of the known quantity values; null when no row of the group has one.

`category_insights` — one row per category ('Unknown' for a null category):
- category (string); revenue (double) = sum(amount); orders (bigint) = number of transactions;
  customers (bigint) = distinct customers who bought in the category.
- avg_order_value (double) = revenue / orders.
- units (bigint) = sum of known quantities (null when none is known).
- gross_margin (double) = sum of known gross_margin (null when none is known).
- margin_pct (double) = gross_margin / revenue of the rows whose gross_margin is known (so rows
  without a cost do not dilute it); null when no row has a known margin.
- revenue_share (double) = revenue / revenue of all transactions (all categories, 'Unknown'
  included, so the shares add up to 1).
- repeat_customer_rate (double) = customers who bought in the category on 2 or more distinct
  days / customers.
- first_sale_date, last_sale_date (date) = min / max transaction_date in the category.

`category_baskets` — one row per customer with at least one known category:
- customer_id (string); categories (array<string>): the distinct non-null categories the customer
  bought, sorted ascending. One basket per customer: the unit of association is the customer.

`category_associations` — association rules between categories, mined with Spark MLlib
`FPGrowth` over the baskets (fitting the model is the one step in this module that runs Spark
jobs, inside `build_category_associations`). An itemset is frequent when freq >=
ceil(min_support x N) (default min_support 0.01); a rule is kept when confidence >=
min_confidence (default 0.1) and its consequent is a single category.
With N = number of baskets (non-null `categories`) and freq(X) = number of baskets containing
every category of X (from the model's frequent itemsets):
- antecedent (string): the antecedent's categories, sorted, joined with ' + '.
- consequent (string): the single consequent category (MLlib rules always have one).
- antecedent_size (int): number of categories in the antecedent.
- support (double) = freq(antecedent ∪ consequent) / N. Computed here from the frequent itemsets
  rather than read from the rules' `support` column, which only exists since Spark 3.1 (before
  it a rule had no support at all), so the definition does not depend on the Spark version. On
  Spark 4.x MLlib's column holds the same value.
- confidence (double) = freq(antecedent ∪ consequent) / freq(antecedent).
- lift (double) = confidence / (freq(consequent) / N).
- customers (bigint) = freq(antecedent ∪ consequent): customers whose basket holds all of them.

`cross_sell_candidates` — one row per (customer_id, opportunity_type, recommendation):
- channel_expansion: customer_status in (Active, New, At Risk) and channel_count = 1;
  recommendation = 'mobile_app', or 'online' when the one channel is mobile_app (a fixed,
  deterministic rule, not learned from the data); score = 1.0.
- tier_upgrade: next_loyalty_tier not null and spend_to_next_tier <= tier_proximity x threshold
  of the next tier (`LOYALTY_TIER_THRESHOLDS`, trailing 12-month spend); recommendation = the
  next tier; score = 1 - spend_to_next_tier / threshold, in [1 - tier_proximity, 1] (1.0 when
  spend_to_next_tier is 0: a loyalty-source tier below the one 12-month spend already earns).
  Platinum customers (no next tier) and customers without a tier get no row.
- category_association: for the customer's favourite_category, the rule with antecedent exactly
  that category (antecedent_size = 1), lift > `MIN_RECOMMENDATION_LIFT` (a positive
  association), and a consequent not in the customer's basket; the highest lift wins, ties go to
  the higher confidence, then the alphabetically first consequent. recommendation = consequent;
  score = lift.
- detail (string): a short human-readable reason: 'Invite to <channel>: buys only via
  <channels_used>'; 'Spend <spend_to_next_tier, 2 decimals> more in 12 months to reach <tier>
  (<threshold>)'; 'Buyers of <favourite_category> also buy <consequent> (lift <2 decimals>,
  confidence <percent>%)'.
Only channel_expansion looks at customer_status. Scores are comparable within one
opportunity_type only.
"""

from __future__ import annotations

from pyspark.ml.fpm import FPGrowth
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.columns import safe_ratio
from c360_pipeline.transforms.customer_360 import LOYALTY_TIERS
from c360_pipeline.transforms.purchases import UNKNOWN_CATEGORY

LOYALTY_TIER_THRESHOLDS = dict(LOYALTY_TIERS)
"""Trailing 12-month spend from which each loyalty tier applies."""

MIN_RECOMMENDATION_LIFT = 1.0
"""A category association is recommended only when its lift is above this."""

ACTIVE_STATUSES = ("Active", "New", "At Risk")
"""customer_status values that qualify for a channel-expansion invitation."""

UNKNOWN_SEGMENT = "Unknown"
UNKNOWN_CHANNEL = "unknown"
ANTECEDENT_SEPARATOR = " + "


def _category() -> Column:
    return F.coalesce(F.col("category"), F.lit(UNKNOWN_CATEGORY))


def build_revenue_monthly(transactions_df: DataFrame, customers_df: DataFrame) -> DataFrame:
    """Revenue, orders, customers, margin and units per month, segment, category and channel."""
    month = F.trunc("transaction_date", "month").alias("month_date")
    # Per customer first: no shuffle of the transactions when they are clustered by customer,
    # and a customer's segment is then joined onto far fewer rows. A customer counts once per
    # group, so counting these rows counts distinct customers.
    by_customer_df = transactions_df.groupBy(
        "customer_id",
        month,
        _category().alias("category"),
        F.coalesce(F.col("channel"), F.lit(UNKNOWN_CHANNEL)).alias("channel"),
    ).agg(
        F.sum("amount").alias("revenue"),
        F.count(F.lit(1)).alias("orders"),
        F.sum("gross_margin").alias("gross_margin"),
        F.sum("quantity").alias("units"),
    )
    segments_df = customers_df.select("customer_id", F.col("segment").alias("_segment"))
    joined_df = by_customer_df.join(segments_df, on="customer_id", how="left")
    monthly_df = joined_df.groupBy(
        "month_date",
        F.coalesce(F.col("_segment"), F.lit(UNKNOWN_SEGMENT)).alias("customer_segment"),
        "category",
        "channel",
    ).agg(
        F.sum("revenue").alias("revenue"),
        F.sum("orders").alias("orders"),
        F.count(F.lit(1)).alias("customers"),
        F.sum("gross_margin").alias("gross_margin"),
        F.sum("units").alias("units"),
    )
    return monthly_df.select(
        F.col("month_date").cast("date"),
        F.col("customer_segment").cast("string"),
        F.col("category").cast("string"),
        F.col("channel").cast("string"),
        F.col("revenue").cast("double"),
        F.col("orders").cast("long"),
        F.col("customers").cast("long"),
        F.col("gross_margin").cast("double"),
        F.col("units").cast("long"),
    )


def build_category_insights(customer_categories_df: DataFrame) -> DataFrame:
    """Per category: revenue, orders, customers, margin, revenue share and repeat rate, from
    `build_customer_categories` (every measure sums up from its per-customer rows, and the
    repeat rate needs each customer's purchase days in the category)."""
    by_category_df = customer_categories_df.groupBy("category").agg(
        F.sum("revenue").alias("revenue"),
        F.sum("orders").alias("orders"),
        F.count(F.lit(1)).alias("customers"),
        F.sum("units").alias("units"),
        F.sum("gross_margin").alias("gross_margin"),
        F.sum("costed_revenue").alias("costed_revenue"),
        F.count(F.when(F.col("purchase_days") >= 2, F.lit(1))).alias("repeat_customers"),
        F.min("first_date").alias("first_sale_date"),
        F.max("last_date").alias("last_sale_date"),
    )
    total_df = by_category_df.agg(F.sum("revenue").alias("total_revenue"))
    joined_df = by_category_df.crossJoin(total_df)
    return joined_df.select(
        F.col("category").cast("string"),
        F.col("revenue").cast("double"),
        F.col("orders").cast("long"),
        F.col("customers").cast("long"),
        safe_ratio(F.col("revenue"), F.col("orders")).cast("double").alias("avg_order_value"),
        F.col("units").cast("long"),
        F.col("gross_margin").cast("double"),
        safe_ratio(F.col("gross_margin"), F.col("costed_revenue"))
        .cast("double")
        .alias("margin_pct"),
        safe_ratio(F.col("revenue"), F.col("total_revenue")).cast("double").alias("revenue_share"),
        safe_ratio(F.col("repeat_customers"), F.col("customers"))
        .cast("double")
        .alias("repeat_customer_rate"),
        F.col("first_sale_date").cast("date"),
        F.col("last_sale_date").cast("date"),
    )


def build_category_baskets(customer_categories_df: DataFrame) -> DataFrame:
    """Per customer: the sorted distinct categories bought (the FPGrowth input), from
    `build_customer_categories`."""
    baskets_df = (
        customer_categories_df.where(F.col("named_orders") > 0)
        .groupBy("customer_id")
        .agg(F.array_sort(F.collect_list("category")).alias("categories"))
    )
    return baskets_df.select(
        F.col("customer_id").cast("string"),
        F.col("categories").cast("array<string>"),
    )


def build_category_associations(
    baskets_df: DataFrame, min_support: float = 0.01, min_confidence: float = 0.1
) -> DataFrame:
    """Single-consequent association rules between categories, fitted with MLlib FPGrowth."""
    # The estimator step: fit runs Spark jobs over the baskets (MLlib needs distinct items per
    # basket, which build_category_baskets guarantees). Everything after it is lazy.
    model = FPGrowth(
        itemsCol="categories", minSupport=min_support, minConfidence=min_confidence
    ).fit(baskets_df)
    itemsets_df = model.freqItemsets.select(
        F.array_sort("items").alias("itemset"), F.col("freq").cast("long").alias("freq")
    )
    rules_df = model.associationRules.where(F.size("consequent") == 1).select(
        F.array_sort("antecedent").alias("antecedent_items"),
        F.col("consequent")[0].alias("consequent"),
    )
    union_df = itemsets_df.select(
        F.col("itemset").alias("union_items"), F.col("freq").alias("union_freq")
    )
    antecedent_df = itemsets_df.select(
        F.col("itemset").alias("antecedent_items"), F.col("freq").alias("antecedent_freq")
    )
    consequent_df = itemsets_df.where(F.size("itemset") == 1).select(
        F.col("itemset")[0].alias("consequent"), F.col("freq").alias("consequent_freq")
    )
    # FPGrowth counts every row with non-null items as a training record.
    total_df = baskets_df.where(F.col("categories").isNotNull()).agg(
        F.count(F.lit(1)).alias("baskets")
    )
    joined_df = (
        rules_df.withColumn(
            "union_items",
            F.array_sort(F.concat(F.col("antecedent_items"), F.array(F.col("consequent")))),
        )
        .join(union_df, on="union_items", how="inner")
        .join(antecedent_df, on="antecedent_items", how="inner")
        .join(consequent_df, on="consequent", how="inner")
        .crossJoin(total_df)
    )
    support = safe_ratio(F.col("union_freq"), F.col("baskets"))
    confidence = safe_ratio(F.col("union_freq"), F.col("antecedent_freq"))
    consequent_support = safe_ratio(F.col("consequent_freq"), F.col("baskets"))
    return joined_df.select(
        F.concat_ws(ANTECEDENT_SEPARATOR, F.col("antecedent_items")).alias("antecedent"),
        F.col("consequent").cast("string"),
        F.size("antecedent_items").cast("int").alias("antecedent_size"),
        support.cast("double").alias("support"),
        confidence.cast("double").alias("confidence"),
        safe_ratio(confidence, consequent_support).cast("double").alias("lift"),
        F.col("union_freq").cast("long").alias("customers"),
    )


def _candidate_columns(
    recommendation: Column, score: Column, detail: Column, opportunity_type: str
) -> list[Column]:
    return [
        F.col("customer_id").cast("string"),
        F.lit(opportunity_type).cast("string").alias("opportunity_type"),
        recommendation.cast("string").alias("recommendation"),
        score.cast("double").alias("score"),
        detail.cast("string").alias("detail"),
    ]


def _channel_expansion(customer_360_df: DataFrame) -> DataFrame:
    recommendation = F.when(F.col("channels_used") == "mobile_app", F.lit("online")).otherwise(
        F.lit("mobile_app")
    )
    detail = F.format_string("Invite to %s: buys only via %s", recommendation, "channels_used")
    return customer_360_df.where(
        F.col("customer_status").isin(*ACTIVE_STATUSES) & (F.col("channel_count") == 1)
    ).select(*_candidate_columns(recommendation, F.lit(1.0), detail, "channel_expansion"))


def _tier_upgrade(customer_360_df: DataFrame, tier_proximity: float) -> DataFrame:
    thresholds = F.create_map(
        *[F.lit(value) for item in LOYALTY_TIER_THRESHOLDS.items() for value in item]
    )
    threshold = F.try_element_at(thresholds, F.col("next_loyalty_tier"))
    spend = F.col("spend_to_next_tier")
    detail = F.format_string(
        "Spend %.2f more in 12 months to reach %s (%.0f)", spend, "next_loyalty_tier", threshold
    )
    return customer_360_df.where(spend <= F.lit(tier_proximity) * threshold).select(
        *_candidate_columns(
            F.col("next_loyalty_tier"),
            F.lit(1.0) - safe_ratio(spend, threshold),
            detail,
            "tier_upgrade",
        )
    )


def _category_association(
    customer_360_df: DataFrame, associations_df: DataFrame, baskets_df: DataFrame
) -> DataFrame:
    rules_df = associations_df.where(
        (F.col("antecedent_size") == 1) & (F.col("lift") > MIN_RECOMMENDATION_LIFT)
    ).select(F.col("antecedent").alias("favourite_category"), "consequent", "lift", "confidence")
    has_bought = F.coalesce(F.array_contains("categories", F.col("consequent")), F.lit(False))
    candidates_df = (
        customer_360_df.select("customer_id", "favourite_category")
        .join(rules_df, on="favourite_category", how="inner")
        .join(baskets_df.select("customer_id", "categories"), on="customer_id", how="left")
        .where(~has_bought)
    )
    # min over (-lift, -confidence, consequent): highest lift, then confidence, then first name.
    best_df = candidates_df.groupBy("customer_id", "favourite_category").agg(
        F.min(
            F.struct(
                (-F.col("lift")).alias("neg_lift"),
                (-F.col("confidence")).alias("neg_confidence"),
                F.col("consequent").alias("consequent"),
            )
        ).alias("_best")
    )
    lift = -F.col("_best.neg_lift")
    confidence = -F.col("_best.neg_confidence")
    detail = F.format_string(
        "Buyers of %s also buy %s (lift %.2f, confidence %.0f%%)",
        "favourite_category",
        "_best.consequent",
        lift,
        confidence * 100,
    )
    return best_df.select(
        *_candidate_columns(F.col("_best.consequent"), lift, detail, "category_association")
    )


def build_cross_sell_candidates(
    customer_360_df: DataFrame,
    associations_df: DataFrame,
    baskets_df: DataFrame,
    tier_proximity: float = 0.2,
) -> DataFrame:
    """Channel-expansion, tier-upgrade and category-association opportunities per customer."""
    candidates_df = (
        _channel_expansion(customer_360_df)
        .unionByName(_tier_upgrade(customer_360_df, tier_proximity))
        .unionByName(_category_association(customer_360_df, associations_df, baskets_df))
    )
    return candidates_df.select(
        F.col("customer_id").cast("string"),
        F.col("opportunity_type").cast("string"),
        F.col("recommendation").cast("string"),
        F.col("score").cast("double"),
        F.col("detail").cast("string"),
    )
