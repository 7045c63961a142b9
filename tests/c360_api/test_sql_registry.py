"""The SQL registry: every file loads, bad files fail fast naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360_api.app import create_app
from c360_api.settings import REPO_SQL_DIR
from c360_api.sql_registry import QueryRegistryError, load_query, load_registry
from tests.c360_api.conftest import authorised_client, make_settings


def test_the_repository_queries_load_with_their_parameters() -> None:
    registry = load_registry(REPO_SQL_DIR)
    assert len(registry) == 32
    assert registry.get("customers", "customer_detail").parameters == {"customer_id"}
    churn = registry.get("marketing", "churn_risk_customers")
    assert churn.parameters == {"min_lifetime_value"}
    assert churn.key == "marketing/churn_risk_customers"
    profiles = registry.get("analytics", "customer_profiles")
    assert profiles.parameters == {"customer_statuses", "min_health_score"}
    assert registry.get("finance", "revenue_analysis").parameters == frozenset()
    assert registry.get("inference", "churn_features").parameters == {"customer_ids"}
    assert registry.get("analytics", "segment_summary").parameters == {
        "segment_name", "days", "as_of",
    }  # fmt: skip


def _write(tmp_path: Path, team: str, name: str, sql: str) -> Path:
    path = tmp_path / "sql" / team / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)
    return path


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select from where", "does not parse"),
        ("select 1; select 2", "exactly one select"),
        ("delete from customer_360", "exactly one select"),
        ("select * from customer_360 where total_spent > ?", "parameters must be"),
    ],
)
def test_a_bad_file_fails_to_load_naming_it(tmp_path: Path, sql: str, message: str) -> None:
    path = _write(tmp_path, "marketing", "broken", sql)
    with pytest.raises(QueryRegistryError, match=message) as error:
        load_query(path)
    assert str(path) in str(error.value)


def test_a_bad_file_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "marketing", "Bad-Name", "select 1")
    with pytest.raises(QueryRegistryError, match="snake_case"):
        load_query(path)


def test_an_empty_or_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(QueryRegistryError, match="does not exist"):
        load_registry(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(QueryRegistryError, match="no queries"):
        load_registry(tmp_path / "empty")


def test_start_up_fails_when_a_query_does_not_compile_against_the_snapshot(
    tmp_path: Path, data_dir: Path
) -> None:
    good = _write(tmp_path, "finance", "ok", "select customer_id from customer_360")
    bad = _write(tmp_path, "finance", "typo", "select custmer_id from customer_360")
    with pytest.raises(QueryRegistryError) as error:
        create_app(make_settings(data_dir, sql_dir=tmp_path / "sql"))
    assert str(bad) in str(error.value)
    assert str(good) not in str(error.value)
    assert "custmer_id" in str(error.value)


def test_without_a_snapshot_start_up_succeeds_and_queries_answer_503(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "empty"))
    with authorised_client(app) as client:
        response = client.get("/finance/revenue-analysis")
    assert response.status_code == 503
    body = response.json()
    assert body["error_type"] == "service_unavailable"
    assert "no published snapshot" in body["error_message"]


def test_rows_are_counted_without_the_final_order_by(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "finance",
        "ordered",
        "select customer_id, row_number() over (order by total_spent) as rank_by_spend\n"
        "from customer_360 where total_spent > $floor order by total_spent desc",
    )
    query = load_query(path)
    assert "order by total_spent desc" in query.sql
    unordered = query.unordered_sql.lower()
    assert not unordered.rstrip().endswith("desc")
    assert "over (order by total_spent)" in unordered, "a window's order is kept"
    assert "$floor" in unordered
