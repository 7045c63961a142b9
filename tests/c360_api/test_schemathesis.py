"""Schemathesis against the OpenAPI schema, through the ASGI app, with an every-scope API key:
no 5xx, and every response conforms to the schema (status code, content type, headers, body)
for generated valid and invalid requests to every operation.

Bounded for CI: a few examples per operation in the fuzzing phase, derandomized (the same
cases every run), plus schemathesis's deterministic coverage cases."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings

from c360_api.app import create_app
from c360_api.auth.passwords import Passwords
from c360_api.jobs import JobManager
from tests.c360_api.conftest import (
    AS_OF,
    MANIFEST_MODELS,
    MODEL_FILES,
    ORG,
    SNAPSHOT_ID,
    TABLES,
    credential,
    make_settings,
)
from tests.c360_api.snapshot_builder import write_snapshot

MAX_EXAMPLES = 15

# Built at import: schemathesis's pytest integration parametrizes from a schema it has at
# collection (its fixture-based loader does not run on pytest 9).
_ROOT = Path(tempfile.mkdtemp(prefix="c360-schemathesis-"))
write_snapshot(
    _ROOT / "data",
    ORG,
    SNAPSHOT_ID,
    TABLES,
    as_of=AS_OF.isoformat(),
    models=MANIFEST_MODELS,
    model_files=MODEL_FILES,
)
APP = create_app(make_settings(_ROOT / "data", registration="open"))
# Refreshes exit at once; cheap hashing (schemathesis registers and logs in many times).
APP.state.jobs = JobManager(lambda org, force: [sys.executable, "-c", "pass"])
APP.state.passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
API_KEY = credential(APP, name="schemathesis")

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


SENT: Counter[tuple[str, str, str]] = Counter()
"""Cases sent, by (operation, generation phase, positive or negative)."""


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Iterator[None]:
    """Every operation was exercised; what ran is printed (`pytest -s` shows it)."""
    yield
    shutil.rmtree(_ROOT, ignore_errors=True)
    operations = {label for label, _, _ in SENT}
    if operations:  # the module ran (not deselected)
        assert len(operations) == len(list(schema.get_all_operations()))
        by_kind = Counter({(phase, mode): 0 for _, phase, mode in SENT})
        for (_, phase, mode), count in SENT.items():
            by_kind[(phase, mode)] += count
        print(f"\nschemathesis: {sum(SENT.values())} cases over {len(operations)} operations; "
              + ", ".join(f"{phase}/{mode}: {n}" for (phase, mode), n in sorted(by_kind.items())),
              file=sys.stderr)  # fmt: skip


# A minimum above its maximum is a 422 (docs/api.md): a rule between two parameters that the
# schema cannot state, so schemathesis's positive-data check is replaced by the test's own.
RANGE_CHECKED = {
    ("GET", "/api/v1/customers"),
    ("GET", "/api/v1/customers/{customer_id}/transactions"),
    ("GET", "/api/v1/analytics/transactions"),
}


# Which feature names are valid and which customer ids exist depends on the snapshot's model and
# rows, not on the schema: a schema-valid body may name an unknown feature (422 naming it) or
# only unknown customers (404).
SNAPSHOT_CHECKED = {("POST", "/api/v1/inference/churn-score")}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_schema(case: Any) -> None:
    # Both ways of sending the key, with the same key: the schema documents both, and two
    # different credentials in one request are refused.
    headers = {"Authorization": f"Bearer {API_KEY}", "X-API-Key": API_KEY}
    meta = case.meta
    SENT[
        (
            case.operation.label,
            meta.phase.name.value if meta is not None else "?",
            meta.generation.mode.value if meta is not None else "?",
        )
    ] += 1
    operation = (case.operation.method.upper(), case.operation.path)
    if operation not in RANGE_CHECKED | SNAPSHOT_CHECKED:
        case.call_and_validate(headers=headers)
        return
    response = case.call(headers=headers)
    if operation in SNAPSHOT_CHECKED:
        case.validate_response(
            response,
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
            headers=headers,
        )
        if case.meta is not None and case.meta.generation.mode.is_positive:
            assert response.status_code in (200, 404, 413, 422), response.text
            if response.status_code == 422:
                assert "unknown feature" in response.text, response.text
        return
    case.validate_response(
        response, excluded_checks=[schemathesis.checks.positive_data_acceptance], headers=headers
    )
    is_positive = case.meta is not None and case.meta.generation.mode.is_positive
    if is_positive and response.status_code != 200:
        assert response.status_code in (404, 422), response.text
        if response.status_code == 422:
            assert "must not be greater than" in response.text, response.text
