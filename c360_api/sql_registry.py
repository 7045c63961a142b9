"""The team queries: one `sql/<team>/<query_name>.sql` file each, loaded once at start-up.

A query is a single `select` with values only as bound `$named` parameters. Loading checks
that every file parses as exactly one select statement; `QueryRegistry.check` then binds every
query against a snapshot's tables (DuckDB `describe`, nothing is executed) so that a file that
names a missing table or column fails fast with the file's path in the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class QueryRegistryError(RuntimeError):
    """A query file that cannot be loaded or does not compile."""


@dataclass(frozen=True)
class SqlQuery:
    """One team query."""

    team: str
    name: str
    path: Path
    sql: str
    parameters: frozenset[str]
    unordered_sql: str
    """The query without its final `order by`: what counting its rows needs (DuckDB keeps a
    subquery's order, so `count(*)` over the ordered query would sort every row first)."""

    @property
    def key(self) -> str:
        """`<team>/<name>`, the query's name in logs, metrics and cache keys."""
        return f"{self.team}/{self.name}"


class QueryRegistry:
    """Every team query, by (team, name)."""

    def __init__(self, queries: list[SqlQuery]) -> None:
        self._queries = {(query.team, query.name): query for query in queries}

    def __iter__(self) -> Iterator[SqlQuery]:
        return iter(sorted(self._queries.values(), key=lambda query: query.key))

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, team: str, name: str) -> SqlQuery:
        """The query `sql/<team>/<name>.sql`; KeyError when there is none."""
        return self._queries[(team, name)]

    def check(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Bind every query against the connection's tables; raise naming each failing file."""
        failures = []
        for query in self:
            try:
                connection.execute(
                    f"describe {query.sql}", dict.fromkeys(query.parameters)
                ).fetchall()
            except duckdb.Error as exc:
                failures.append(f"{query.path}: {_first_line(exc)}")
        if failures:
            raise QueryRegistryError(
                "queries do not compile against the snapshot: " + "; ".join(failures)
            )


def load_registry(sql_dir: Path) -> QueryRegistry:
    """Load every `<sql_dir>/<team>/<name>.sql`; raise QueryRegistryError naming a bad file."""
    if not sql_dir.is_dir():
        raise QueryRegistryError(f"query directory {sql_dir} does not exist")
    queries = [load_query(path) for path in sorted(sql_dir.glob("*/*.sql"))]
    if not queries:
        raise QueryRegistryError(f"no queries found under {sql_dir}/<team>/*.sql")
    return QueryRegistry(queries)


def load_query(path: Path) -> SqlQuery:
    """Parse one query file."""
    team, name = path.parent.name, path.stem
    for part in (team, name):
        if not NAME_PATTERN.fullmatch(part):
            raise QueryRegistryError(f"{path}: {part!r} is not a lowercase snake_case name")
    sql = path.read_text(encoding="utf-8").strip().rstrip(";").strip()
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRegistryError(f"{path}: does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRegistryError(f"{path}: must hold exactly one select statement")
    parameters = frozenset(statements[0].named_parameters)
    bad = sorted(p for p in parameters if not NAME_PATTERN.fullmatch(p))
    if bad:
        raise QueryRegistryError(f"{path}: parameters must be $snake_case names, got {bad}")
    return SqlQuery(
        team=team,
        name=name,
        path=path,
        sql=sql,
        parameters=parameters,
        unordered_sql=_without_final_order_by(sql),
    )


def _without_final_order_by(sql: str) -> str:
    """`sql` with the top-level `order by` removed, through DuckDB's own parser (the AST as
    JSON, minus the order modifier, back to SQL); the original text when that is not possible."""
    connection = duckdb.connect(":memory:")
    try:
        serialized = connection.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchone()
        if serialized is None:
            return sql
        tree = json.loads(serialized[0])
        if tree.get("error"):
            return sql
        node = tree["statements"][0]["node"]
        modifiers = node.get("modifiers", [])
        kept = [m for m in modifiers if m.get("type") != "ORDER_MODIFIER"]
        if len(kept) == len(modifiers):
            return sql
        node["modifiers"] = kept
        result = connection.execute(
            "select json_deserialize_sql($tree)", {"tree": json.dumps(tree)}
        ).fetchone()
        return str(result[0]) if result and result[0] else sql
    except (duckdb.Error, KeyError, IndexError, TypeError, ValueError):
        return sql
    finally:
        connection.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
