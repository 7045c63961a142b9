"""Validating raw transactions: typed accepted rows and one quarantine reason per bad row."""

from __future__ import annotations

from datetime import date

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from c360_pipeline.ingest.dates import DateOrder
from c360_pipeline.ingest.readers import CORRUPT, RAW
from c360_pipeline.ingest.validate import accepted, quarantined, with_validation
from c360_pipeline.schemas import TRANSACTIONS, map_columns, normalise_header

PRECISION = 1e-9
UNDECIDED: dict[str, DateOrder | None] = {"transaction_date": None}
DAY_FIRST: dict[str, DateOrder | None] = {"transaction_date": "dmy"}

RAW_SCHEMA = T.StructType(
    [
        *[T.StructField(c, T.StringType()) for c in TRANSACTIONS.column_names],
        T.StructField(CORRUPT, T.StringType()),
        T.StructField(RAW, T.StringType()),
    ]
)
ACCEPTED_SCHEMA = T.StructType(
    [
        T.StructField("transaction_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("transaction_date", T.DateType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("channel", T.StringType()),
        T.StructField("store_id", T.StringType()),
        T.StructField("region", T.StringType()),
    ]
)
QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("column", T.StringType()),
        T.StructField("raw_record", T.StringType()),
    ]
)


def raw(
    transaction_id: str | None,
    customer_id: str | None,
    transaction_date: str | None,
    amount: str | None,
    quantity: str | None = "",
    *,
    product_id: str | None = "",
    category: str | None = "",
    channel: str | None = "",
    store_id: str | None = "",
    region: str | None = "",
    corrupt: str | None = None,
) -> tuple[str | None, ...]:
    """One raw row; the raw record is the CSV line (or the corrupt text, as the reader keeps)."""
    values = (
        transaction_id,
        customer_id,
        transaction_date,
        amount,
        product_id,
        category,
        quantity,
        channel,
        store_id,
        region,
    )
    line = corrupt if corrupt is not None else ",".join(v or "" for v in values)
    return (*values, corrupt, line)


def _validated(
    spark: SparkSession,
    rows: list[tuple[str | None, ...]],
    orders: dict[str, DateOrder | None],
    known: list[str] | None = None,
) -> DataFrame:
    raw_df = spark.createDataFrame(rows, RAW_SCHEMA)
    known_df = (
        None
        if known is None
        else spark.createDataFrame([(c,) for c in known], "customer_id string")
    )
    return with_validation(raw_df, TRANSACTIONS, orders, known_df)


def test_each_defect_gets_its_reason(spark: SparkSession) -> None:
    rows = [
        raw("t1", "c1", "2024-03-05", "19.99", "2"),
        raw("t2", "c1", None, None, None, corrupt='t2,c1,2024-03-05,"12'),
        raw("t3", "", "2024-03-05", "5.00"),
        raw("t4", "c1", "05/03/2024", "5.00"),
        raw("t5", "c1", "2024-13-45", "5.00"),
        raw("t6", "c1", "2024-03-05", "N/A"),
        raw("t7", "c1", "2024-03-05", "5.00", "2.5"),
        raw("t8", "c1", "2024-03-05", "5.00", "99999999999"),  # overflows an int
        raw("t9", "c1", "2024-03-05", "-5.00"),
        raw("t10", "c1", "2024-03-05", "5.00", "-1"),
        raw("t11", "c9", "2024-03-05", "5.00"),
        # the same id twice, both valid: the first by raw record is kept
        raw("t12", "c2", "2024-03-06", "2.00"),
        raw("t12", "c1", "2024-03-05", "1.00"),
    ]

    validated_df = _validated(spark, rows, UNDECIDED, known=["c1", "c2"])

    expected_quarantine_df = spark.createDataFrame(
        [
            ("transactions", "malformed_row", None, 't2,c1,2024-03-05,"12'),
            ("transactions", "missing_required", "customer_id", "t3,,2024-03-05,5.00,,,,,,"),
            ("transactions", "ambiguous_date", "transaction_date", "t4,c1,05/03/2024,5.00,,,,,,"),
            ("transactions", "invalid_date", "transaction_date", "t5,c1,2024-13-45,5.00,,,,,,"),
            ("transactions", "invalid_amount", "amount", "t6,c1,2024-03-05,N/A,,,,,,"),
            ("transactions", "invalid_number", "quantity", "t7,c1,2024-03-05,5.00,,,2.5,,,"),
            ("transactions", "invalid_number", "quantity",
             "t8,c1,2024-03-05,5.00,,,99999999999,,,"),
            ("transactions", "negative_amount", "amount", "t9,c1,2024-03-05,-5.00,,,,,,"),
            ("transactions", "negative_value", "quantity", "t10,c1,2024-03-05,5.00,,,-1,,,"),
            ("transactions", "unknown_customer", "customer_id", "t11,c9,2024-03-05,5.00,,,,,,"),
            ("transactions", "duplicate_id", "transaction_id", "t12,c2,2024-03-06,2.00,,,,,,"),
        ],
        QUARANTINE_SCHEMA,
    )  # fmt: skip
    assert_df_equality(
        expected_quarantine_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    expected_accepted_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 3, 5), 19.99, None, None, 2, None, None, None),
            ("t12", "c1", date(2024, 3, 5), 1.0, None, None, None, None, None, None),
        ],
        ACCEPTED_SCHEMA,
    )
    assert_approx_df_equality(
        expected_accepted_df,
        accepted(validated_df, TRANSACTIONS),
        PRECISION,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_first_reason_in_order_wins(spark: SparkSession) -> None:
    rows = [
        raw(None, "c1", "2024-03-05", "1.00", corrupt="t1,c1,,,"),  # malformed + missing
        raw("", "", "2024-03-05", "abc"),  # missing id and customer, bad amount
        raw("t3", "c1", "2024-13-45", "-3"),  # invalid date + negative amount
        raw("t4", "c1", "2024-03-05", "abc", "x"),  # invalid amount + invalid number
        raw("t5", "c1", "2024-03-05", "-1", "x"),  # invalid number + negative amount
        raw("t6", "c9", "2024-03-05", "1.00", "-2"),  # negative value + unknown customer
    ]

    validated_df = _validated(spark, rows, UNDECIDED, known=["c1"])

    expected_df = spark.createDataFrame(
        [
            ("transactions", "malformed_row", None, "t1,c1,,,"),
            ("transactions", "missing_required", "transaction_id", ",,2024-03-05,abc,,,,,,"),
            ("transactions", "invalid_date", "transaction_date", "t3,c1,2024-13-45,-3,,,,,,"),
            ("transactions", "invalid_amount", "amount", "t4,c1,2024-03-05,abc,,,x,,,"),
            ("transactions", "invalid_number", "quantity", "t5,c1,2024-03-05,-1,,,x,,,"),
            ("transactions", "negative_value", "quantity", "t6,c9,2024-03-05,1.00,,,-2,,,"),
        ],
        QUARANTINE_SCHEMA,
    )
    assert_df_equality(
        expected_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_valid_rows_are_typed(spark: SparkSession) -> None:
    rows = [
        raw(" t1 ", " c1 ", " 25/12/2024 ", " 19.99 ", " 2 ", product_id=" p1 ",
            category=" Books ", channel="online", store_id="", region="North"),
        # empty and blank optional values are nulls; '.5' is a number
        raw("t2", "c2", "20240301", ".5", "", product_id="", category="   ", channel=None,
            store_id=None, region=None),
        # a timestamp keeps its date; explicit signs
        raw("t3", "c1", "2024-03-05 10:15:30", "+3", "+7", product_id="p2", store_id="s1"),
        # zero is not negative; day-first as decided for the column
        raw("t4", "c2", "05/03/2024", "0", "0"),
    ]  # fmt: skip

    validated_df = _validated(spark, rows, DAY_FIRST, known=["c1", "c2"])

    expected_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 12, 25), 19.99, "p1", "Books", 2, "online", None, "North"),
            ("t2", "c2", date(2024, 3, 1), 0.5, None, None, None, None, None, None),
            ("t3", "c1", date(2024, 3, 5), 3.0, "p2", None, 7, None, "s1", None),
            ("t4", "c2", date(2024, 3, 5), 0.0, None, None, 0, None, None, None),
        ],
        ACCEPTED_SCHEMA,
    )
    assert_approx_df_equality(
        expected_df,
        accepted(validated_df, TRANSACTIONS),
        PRECISION,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    assert quarantined(validated_df, TRANSACTIONS).count() == 0


def test_duplicates_keep_one_valid_row(spark: SparkSession) -> None:
    rows = [
        # three copies of t1 (one with padding): only the first by raw record is kept
        raw("t1", "c1", "2024-03-05", "3.00"),
        raw("t1", "c1", "2024-03-05", "1.00"),
        raw(" t1", "c1", "2024-03-05", "2.00"),
        # t2: the invalid copy is quarantined for its own reason, the valid one is kept
        raw("t2", "c1", "2024-03-05", "-1.00"),
        raw("t2", "c1", "2024-03-06", "4.00"),
        # without a customers source any customer id is accepted
        raw("t3", "c9", "2024-03-07", "5.00"),
    ]

    validated_df = _validated(spark, rows, UNDECIDED, known=None)

    expected_accepted_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 3, 5), 2.0, None, None, None, None, None, None),
            ("t2", "c1", date(2024, 3, 6), 4.0, None, None, None, None, None, None),
            ("t3", "c9", date(2024, 3, 7), 5.0, None, None, None, None, None, None),
        ],
        ACCEPTED_SCHEMA,
    )
    assert_approx_df_equality(
        expected_accepted_df,
        accepted(validated_df, TRANSACTIONS),
        PRECISION,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    expected_quarantine_df = spark.createDataFrame(
        [
            ("transactions", "duplicate_id", "transaction_id", "t1,c1,2024-03-05,1.00,,,,,,"),
            ("transactions", "duplicate_id", "transaction_id", "t1,c1,2024-03-05,3.00,,,,,,"),
            ("transactions", "negative_amount", "amount", "t2,c1,2024-03-05,-1.00,,,,,,"),
        ],
        QUARANTINE_SCHEMA,
    )
    assert_df_equality(
        expected_quarantine_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("Invoice Date", "invoice_date"),
        ("InvoiceDate", "invoice_date"),
        ("  customer-ID ", "customer_id"),
        ("CustomerID", "customer_id"),
        ("Qty.", "qty"),
        ("amount (USD)", "amount_usd"),
        ("transaction_id", "transaction_id"),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


def test_map_columns_by_alias() -> None:
    header = ["Invoice No", "InvoiceDate", "Customer ID", "Total", "SKU", "Qty", "Notes"]

    assert map_columns(TRANSACTIONS, header) == {
        "Invoice No": "transaction_id",
        "InvoiceDate": "transaction_date",
        "Customer ID": "customer_id",
        "Total": "amount",
        "SKU": "product_id",
        "Qty": "quantity",
    }


def test_map_columns_exact_name_beats_alias() -> None:
    header = ["total", "amount", "transaction_id", "customer_id", "date"]

    assert map_columns(TRANSACTIONS, header) == {
        "amount": "amount",
        "transaction_id": "transaction_id",
        "customer_id": "customer_id",
        "date": "transaction_date",
    }


def test_map_columns_explicit_map_wins() -> None:
    header = ["date", "Order Date", "transaction_id", "customer_id", "amount"]

    # without a map the first alias in the header claims the column
    assert map_columns(TRANSACTIONS, header)["date"] == "transaction_date"
    assert map_columns(TRANSACTIONS, header, {"order_date": "transaction_date"}) == {
        "Order Date": "transaction_date",
        "transaction_id": "transaction_id",
        "customer_id": "customer_id",
        "amount": "amount",
    }


def test_map_columns_rejects_an_unknown_target() -> None:
    with pytest.raises(ValueError, match="'invoice_total' is not a transactions column"):
        map_columns(TRANSACTIONS, ["id", "total"], {"total": "invoice_total"})


def _typed_raw_df(spark: SparkSession, quantity_type: T.DataType, rows: list[tuple]) -> DataFrame:
    """A raw source read from Parquet: amount, quantity and date keep their file types."""
    types = {"transaction_date": T.DateType(), "amount": T.DoubleType(), "quantity": quantity_type}
    schema = T.StructType(
        [
            *[T.StructField(c, types.get(c, T.StringType())) for c in TRANSACTIONS.column_names],
            T.StructField(CORRUPT, T.StringType()),
            T.StructField(RAW, T.StringType()),
        ]
    )
    return spark.createDataFrame(
        [(tid, "c1", date(2024, 3, 5), amount, None, None, quantity, None, None, None, None, tid)
         for tid, amount, quantity in rows],
        schema,
    )  # fmt: skip


def test_typed_columns_are_validated_too(spark: SparkSession) -> None:
    raw_df = _typed_raw_df(spark, T.LongType(), [("t1", 5.0, 2), ("t2", -1.0, 1), ("t3", 1.0, -4)])

    validated_df = with_validation(raw_df, TRANSACTIONS, {})

    expected_df = spark.createDataFrame(
        [
            ("transactions", "negative_amount", "amount", "t2"),
            ("transactions", "negative_value", "quantity", "t3"),
        ],
        QUARANTINE_SCHEMA,
    )
    assert_df_equality(
        expected_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_typed_quantity_out_of_int_range_is_quarantined(spark: SparkSession) -> None:
    raw_df = _typed_raw_df(spark, T.LongType(), [("t1", 5.0, 2), ("t2", 5.0, 3_000_000_000)])

    validated_df = with_validation(raw_df, TRANSACTIONS, {})

    expected_df = spark.createDataFrame(
        [("transactions", "invalid_number", "quantity", "t2")], QUARANTINE_SCHEMA
    )
    assert_df_equality(
        expected_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_typed_fractional_quantity_is_quarantined(spark: SparkSession) -> None:
    raw_df = _typed_raw_df(spark, T.DoubleType(), [("t1", 5.0, 2.0), ("t2", 5.0, 2.5)])

    validated_df = with_validation(raw_df, TRANSACTIONS, {})

    expected_df = spark.createDataFrame(
        [("transactions", "invalid_number", "quantity", "t2")], QUARANTINE_SCHEMA
    )
    assert_df_equality(
        expected_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_typed_nan_amount_is_quarantined(spark: SparkSession) -> None:
    raw_df = _typed_raw_df(
        spark, T.LongType(), [("t1", 5.0, 1), ("t2", float("nan"), 1), ("t3", float("inf"), 1)]
    )

    validated_df = with_validation(raw_df, TRANSACTIONS, {})

    expected_df = spark.createDataFrame(
        [
            ("transactions", "invalid_amount", "amount", "t2"),
            ("transactions", "invalid_amount", "amount", "t3"),
        ],
        QUARANTINE_SCHEMA,
    )
    assert_df_equality(
        expected_df,
        quarantined(validated_df, TRANSACTIONS),
        ignore_row_order=True,
        ignore_nullable=True,
    )
