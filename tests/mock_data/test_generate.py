"""The clean generator: deterministic, referentially intact and realistic."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from mock_data import catalog, sources
from mock_data.generate import GeneratorConfig
from tests.conftest import CUSTOMERS, Dataset, read_lines, read_rows

SOURCES = (
    "customers",
    "products",
    "transactions",
    "loyalty",
    "support_tickets",
    "interactions",
    "digital_events",
)


def test_same_seed_gives_identical_rows(
    spark: SparkSession, clean_dataset: Dataset, clean_dataset_again: Dataset
) -> None:
    for source in SOURCES:
        header_a, lines_a = read_lines(clean_dataset.path, source)
        header_b, lines_b = read_lines(clean_dataset_again.path, source)
        assert header_a == header_b
        assert lines_a, source
        assert sorted(lines_a) == sorted(lines_b), source
    truth_a = spark.read.parquet(str(clean_dataset.path / "_ground_truth/customer_truth"))
    truth_b = spark.read.parquet(str(clean_dataset_again.path / "_ground_truth/customer_truth"))
    assert truth_a.count() == CUSTOMERS
    assert truth_a.exceptAll(truth_b).count() == 0
    assert truth_b.exceptAll(truth_a).count() == 0


def test_seed_and_partitioning(spark: SparkSession) -> None:
    window = GeneratorConfig(customers=50).window

    def latents(seed: int, partitions: int) -> list[tuple[object, ...]]:
        df = sources.build_customer_latents(spark, 50, seed, window, partitions)
        return sorted(tuple(r) for r in df.drop("idx").collect())

    assert latents(1, 1) == latents(1, 3)
    assert latents(1, 1) != latents(2, 1)


def test_headers_follow_the_data_contract(clean_dataset: Dataset) -> None:
    expected = {
        "customers": "customer_id,name,email,signup_date,birth_date,region,segment,status",
        "products": "product_id,name,category,brand,unit_price,unit_cost",
        "transactions": "transaction_id,customer_id,transaction_date,product_id,category,"
        "quantity,amount,channel,store_id,region",
        "loyalty": "customer_id,tier,points,enrolled_date",
        "support_tickets": "ticket_id,customer_id,opened_at,closed_at,ticket_type,status,"
        "priority,satisfaction_score,channel",
        "interactions": "interaction_id,customer_id,interaction_type,status,interaction_at,"
        "channel,duration_minutes",
        "digital_events": "customer_id,event_date,channel,event_type,session_count",
    }
    for source, header in expected.items():
        assert read_lines(clean_dataset.path, source)[0] == header


def test_referential_integrity_and_unique_keys(clean_dataset: Dataset) -> None:
    customers = read_rows(clean_dataset, "customers")
    products = {p["product_id"]: p for p in read_rows(clean_dataset, "products")}
    customer_ids = [c["customer_id"] for c in customers]
    assert len(customer_ids) == len(set(customer_ids)) == CUSTOMERS
    assert len(products) == catalog.PRODUCTS_PER_CATEGORY * len(catalog.CATEGORIES)
    known = set(customer_ids)

    transactions = read_rows(clean_dataset, "transactions")
    ids = [t["transaction_id"] for t in transactions]
    assert len(ids) == len(set(ids))
    for t in transactions:
        assert t["customer_id"] in known
        product = products[t["product_id"]]
        assert t["category"] == product["category"]
        price = float(product["unit_price"])
        quantity = int(t["quantity"])
        # Spark rounds half up, Python half to even: allow a cent.
        candidates = [quantity * price * (1 - d) for d in (0.0, 0.1, 0.25)]
        assert min(abs(float(t["amount"]) - c) for c in candidates) <= 0.0051
        assert (t["store_id"] != "") == (t["channel"] == "in_store")
        assert t["channel"] in catalog.CHANNELS

    for source, key in (
        ("loyalty", "customer_id"),
        ("support_tickets", "ticket_id"),
        ("interactions", "interaction_id"),
    ):
        rows = read_rows(clean_dataset, source)
        assert rows, source
        assert all(r["customer_id"] in known for r in rows), source
        keys = [r[key] for r in rows]
        assert len(keys) == len(set(keys)), source
    assert all(r["customer_id"] in known for r in read_rows(clean_dataset, "digital_events"))


def test_products_have_sane_prices_and_costs(clean_dataset: Dataset) -> None:
    products = read_rows(clean_dataset, "products")
    by_category: dict[str, list[float]] = defaultdict(list)
    for p in products:
        price, cost = float(p["unit_price"]), float(p["unit_cost"])
        assert 0 < cost < price
        by_category[p["category"]].append(price)
    assert set(by_category) == {c.name for c in catalog.CATEGORIES}
    assert statistics.mean(by_category["Electronics"]) > 5 * statistics.mean(by_category["Grocery"])


def test_dates_and_tickets_are_consistent(clean_dataset: Dataset) -> None:
    window = clean_dataset.result.config.window
    first_purchase: dict[str, date] = {}
    for t in read_rows(clean_dataset, "transactions"):
        d = date.fromisoformat(t["transaction_date"])
        assert window.start_date <= d <= window.end_date
        first_purchase[t["customer_id"]] = min(d, first_purchase.get(t["customer_id"], d))
    for c in read_rows(clean_dataset, "customers"):
        if c["customer_id"] in first_purchase:
            assert date.fromisoformat(c["signup_date"]) <= first_purchase[c["customer_id"]]
        assert c["status"] in catalog.ACCOUNT_STATUSES
    window_end = datetime.combine(window.end_date + timedelta(days=1), datetime.min.time())
    for ticket in read_rows(clean_dataset, "support_tickets"):
        opened = datetime.fromisoformat(ticket["opened_at"])
        if ticket["status"] in ("open", "in_progress"):
            assert ticket["closed_at"] == ""
            assert ticket["satisfaction_score"] == ""
        else:
            closed = datetime.fromisoformat(ticket["closed_at"])
            assert opened <= closed < window_end
        if ticket["satisfaction_score"]:
            assert 1 <= int(ticket["satisfaction_score"]) <= 5


def test_purchasing_is_skewed_seasonal_and_has_churners(
    spark: SparkSession, clean_dataset: Dataset
) -> None:
    transactions = read_rows(clean_dataset, "transactions")
    per_customer = Counter(t["customer_id"] for t in transactions)
    counts = sorted(per_customer.values())
    assert 12 <= len(transactions) / CUSTOMERS <= 32
    assert counts[-1] >= 5 * statistics.median(counts)
    assert len(per_customer) < CUSTOMERS  # some registered customers never bought

    by_month = Counter(date.fromisoformat(t["transaction_date"]).month for t in transactions)
    assert by_month[12] > 1.2 * by_month[6]

    truth = {
        r.customer_id: r
        for r in spark.read.parquet(
            str(clean_dataset.path / "_ground_truth/customer_truth")
        ).collect()
    }
    churned = [t for t in truth.values() if t.is_churned]
    assert 0.2 < len(churned) / CUSTOMERS < 0.6
    last_purchase: dict[str, date] = {}
    for t in transactions:
        d = date.fromisoformat(t["transaction_date"])
        last_purchase[t["customer_id"]] = max(d, last_purchase.get(t["customer_id"], d))
    end = clean_dataset.result.config.end_date
    recency = defaultdict(list)
    for cid, d in last_purchase.items():
        recency[truth[cid].is_churned].append((end - d).days)
        if truth[cid].is_churned:
            # Nobody buys after they churn.
            assert d <= truth[cid].churn_date
    assert statistics.mean(recency[True]) > 2 * statistics.mean(recency[False])


def test_generations_loyalty_interactions_and_digital(clean_dataset: Dataset) -> None:
    birth_years = [
        date.fromisoformat(c["birth_date"]).year for c in read_rows(clean_dataset, "customers")
    ]
    generations = {
        name for name, first, last, _, _ in catalog.GENERATIONS
        for y in birth_years if first <= y <= last
    }  # fmt: skip
    assert generations == {g[0] for g in catalog.GENERATIONS}

    spend_12m: dict[str, float] = defaultdict(float)
    start_12m = clean_dataset.result.config.end_date - timedelta(days=364)
    for t in read_rows(clean_dataset, "transactions"):
        if date.fromisoformat(t["transaction_date"]) >= start_12m:
            spend_12m[t["customer_id"]] += float(t["amount"])
    by_tier: dict[str, list[float]] = defaultdict(list)
    for row in read_rows(clean_dataset, "loyalty"):
        by_tier[row["tier"]].append(spend_12m[row["customer_id"]])
        assert int(row["points"]) >= 0
    means = [statistics.mean(by_tier[t]) for t in catalog.LOYALTY_TIERS if by_tier[t]]
    assert len(means) == 4
    assert means == sorted(means)  # tiers follow spend

    interactions = read_rows(clean_dataset, "interactions")
    assert {i["interaction_type"] for i in interactions} == set(catalog.INTERACTION_TYPES)
    assert {i["status"] for i in interactions} == set(catalog.INTERACTION_STATUSES)
    events = read_rows(clean_dataset, "digital_events")
    assert {e["channel"] for e in events} == {"app", "web"}
    assert all(int(e["session_count"]) >= 1 for e in events)
    assert {e["event_type"] for e in events} == set(catalog.DIGITAL_EVENT_TYPES)


def test_metadata_counts_match_the_files(clean_dataset: Dataset) -> None:
    metadata = json.loads((clean_dataset.path / "_generator.json").read_text())
    assert metadata["config"]["customers"] == CUSTOMERS
    assert metadata["defects"] == {}
    for source in SOURCES:
        assert metadata["rows"][source] == len(read_lines(clean_dataset.path, source)[1])
    assert metadata["total_rows"] == sum(metadata["rows"].values())


def test_other_date_styles(spark: SparkSession) -> None:
    from mock_data.text import to_text_columns

    df = spark.createDataFrame([(date(2024, 3, 9),)], "d date")
    rendered = {
        style: to_text_columns(df, style).first()[0]
        for style in ("iso", "dmy", "mdy", "dmy_dash", "compact")
    }
    assert rendered == {
        "iso": "2024-03-09",
        "dmy": "09/03/2024",
        "mdy": "03/09/2024",
        "dmy_dash": "09-03-2024",
        "compact": "20240309",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "customers must be"),
        ({"customers": 10, "dirty_fraction": 0.9}, "dirty fraction"),
        ({"customers": 10, "file_format": "parquet", "date_style": "dmy"}, "CSV only"),
        ({"customers": 10, "date_style": "yyyy"}, "date style"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(**kwargs)  # type: ignore[arg-type]


def test_spark_reads_the_csv_back_with_types(spark: SparkSession, clean_dataset: Dataset) -> None:
    df = (
        spark.read.option("header", True)
        .schema("transaction_id string, customer_id string, transaction_date date, "
                "product_id string, category string, quantity int, amount double, "
                "channel string, store_id string, region string")
        .option("mode", "FAILFAST")
        .csv(str(clean_dataset.path / "transactions"))
    )  # fmt: skip
    summary = df.agg(F.count("*").alias("n"), F.min("amount").alias("min_amount")).first()
    assert summary.n == clean_dataset.result.rows["transactions"]
    assert summary.min_amount > 0
