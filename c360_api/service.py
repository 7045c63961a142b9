"""The query service: run queries on the current snapshot, page them, render and cache the answer.

An answer is one or more queries run on one snapshot, rendered once into bytes: the JSON
envelope split around its timestamp (the only part that changes between hits) or the CSV text.
The cache key is (snapshot id, each query with its normalised parameters, page and order,
format), within the organisation's own part of the cache: an organisation never reads another's
entries, and a new snapshot is never answered from an old one's. Every answer carries an
`ETag`; a matching `If-None-Match` gets 304.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from c360_api.cache import AnswerCache, CachedAnswer
from c360_api.engine import SnapshotDb, SnapshotEngine
from c360_api.errors import error_response, utc_now_iso
from c360_api.snapshots import PublishedSnapshot
from c360_api.sql_registry import NAME_PATTERN, QueryRegistry, SqlQuery

OutputFormat = Literal["json", "csv"]

# Bound names for paging; a team query cannot use them (they are not snake_case + letter-first).
_LIMIT, _OFFSET = "c360_page_limit", "c360_page_offset"
_TOTAL = "c360_answer_total"

SNAPSHOT_PARAMETERS: dict[str, Callable[[PublishedSnapshot], Any]] = {
    "as_of": lambda snapshot: snapshot.as_of_date,
}
"""Parameters the service binds from the snapshot itself when a query names them: a request
cannot know them before its snapshot is chosen (and the cache key carries the snapshot id)."""


@dataclass(frozen=True)
class Page:
    """Which rows of an answer to return; a `numbered` page reports page, page_size and pages
    instead of limit and offset."""

    limit: int
    offset: int = 0
    numbered: bool = False

    @classmethod
    def number(cls, page: int, size: int) -> Page:
        """Page `page` (counted from 1) of `size` rows."""
        return cls(limit=size, offset=(page - 1) * size, numbered=True)


@dataclass(frozen=True)
class SortOrder:
    """An order a client picked: a column from the route's whitelist, a direction, and a unique
    tie-breaker so that pages are stable. Only identifiers reach the SQL, never client text."""

    column: str
    descending: bool
    tie_breaker: str

    def __post_init__(self) -> None:
        for name in (self.column, self.tie_breaker):
            if not NAME_PATTERN.fullmatch(name):
                raise ValueError(f"not a column name: {name!r}")

    @property
    def sql(self) -> str:
        """The `order by` list (nulls last either way)."""
        direction = "desc" if self.descending else "asc"
        return f'"{self.column}" {direction} nulls last, "{self.tie_breaker}"'


@dataclass(frozen=True)
class QueryCall:
    """One query of an answer: its file, the request's parameters, which rows (all when no
    page) and, when the client picks it, their order (replacing the file's own)."""

    query: tuple[str, str]
    parameters: Mapping[str, Any]
    page: Page | None = None
    order: SortOrder | None = None
    small: bool = False
    """The whole answer is small (one customer's rows): a page counts it with a window in the
    same query instead of a second scan (which costs as much as the page, an index lookup)."""

    def cache_key(self) -> Hashable:
        """What identifies this call's rows on one snapshot."""
        return (self.query, _normalise(self.parameters), self.page, self.order)


@dataclass(frozen=True)
class QueryAnswer:
    """Rows of one page of a query, with the total number of rows of the whole answer."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int
    snapshot_id: str
    snapshot: PublishedSnapshot | None = None
    """The snapshot the rows come from (what a renderer may add from its manifest)."""

    def records(self) -> list[dict[str, Any]]:
        """The rows as `{column: value}`."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def first_record(self) -> dict[str, Any] | None:
        """The first row as `{column: value}`, None when there is none."""
        return dict(zip(self.columns, self.rows[0], strict=True)) if self.rows else None


Renderer = Callable[[Sequence[QueryAnswer]], CachedAnswer | None]
"""Shapes the fetched answers (one per call, in order) into cached bytes; None is a 404."""


class QueryService:
    """Runs registry queries through the engine and the cache."""

    def __init__(self, registry: QueryRegistry, engine: SnapshotEngine, cache: AnswerCache) -> None:
        self.registry = registry
        self.engine = engine
        self.cache = cache

    def fetch(self, db: SnapshotDb, call: QueryCall) -> QueryAnswer:
        """Run one call: its page (counting the rows when the page does not tell), or every row."""
        query = self.registry.get(*call.query)
        bound = _bind(query, call.parameters, db.snapshot)
        sql = query.sql
        if call.order is not None:
            sql = f"select * from ({query.unordered_sql}) as answer order by {call.order.sql}"
        page = call.page
        if page is None:
            columns, rows = db.execute(sql, bound)
            return QueryAnswer(
                columns, rows, total=len(rows), snapshot_id=db.snapshot_id, snapshot=db.snapshot
            )
        paging = {**bound, _LIMIT: page.limit, _OFFSET: page.offset}
        if call.small and call.order is not None:
            columns, rows = db.execute(
                f"select * from (select *, count(*) over () as {_TOTAL} "
                f"from ({query.unordered_sql}) as answer) as answer "
                f"order by {call.order.sql} limit ${_LIMIT} offset ${_OFFSET}",
                paging,
            )
            counted = int(rows[0][-1]) if rows else None
            columns, rows = columns[:-1], [row[:-1] for row in rows]
        else:
            columns, rows = db.execute(
                f"select * from ({sql}) as answer limit ${_LIMIT} offset ${_OFFSET}", paging
            )
            counted = None
        if counted is not None:
            total = counted
        elif len(rows) < page.limit and (rows or page.offset == 0):
            total = page.offset + len(rows)
        else:
            _, count = db.execute(f"select count(*) from ({query.unordered_sql}) as answer", bound)
            total = int(count[0][0])
        return QueryAnswer(
            columns=columns,
            rows=rows,
            total=total,
            snapshot_id=db.snapshot_id,
            snapshot=db.snapshot,
        )

    async def respond(
        self,
        request: Request,
        org: str,
        calls: Sequence[QueryCall],
        render: Renderer,
        *,
        output: OutputFormat = "json",
        not_found: str = "no such record",
        exists: QueryCall | None = None,
    ) -> Response:
        """The HTTP response for an answer made of `calls`: cached bytes, 304, or a fresh answer.

        Every call runs on the same snapshot (acquired once), and the rendered whole is cached
        under one key; `render` returning None is a 404 with `not_found`, which is not cached.
        `exists` tells an empty answer from a missing record: it runs only when the first call
        has no rows at all, and no row from it is a 404 (so a record with rows costs one query).
        A cache hit is served on the event loop (a lookup and a copy of bytes); everything that
        blocks - opening an organisation's first snapshot, running DuckDB, rendering - runs in
        the thread pool."""
        if self.engine.needs_open(org):
            db = await run_in_threadpool(self.engine.acquire, org)
        else:
            db = self.engine.acquire(org)
        try:
            key = (
                db.snapshot_id,
                tuple(call.cache_key() for call in calls),
                exists.cache_key() if exists is not None else None,
                output,
            )
            # The organisation is the cache's tenant: no lookup can reach another's entries.
            answer = self.cache.get(key, tenant=org)
            cache_hit = answer is not None
            if answer is None:
                answer = await run_in_threadpool(self._run, db, calls, render, exists)
                if answer is not None:
                    self.cache.put(key, answer, tenant=org)
        finally:
            db.release()
        state = request.state
        state.query_name = ",".join("/".join(call.query) for call in calls)
        state.cache_hit = cache_hit
        state.snapshot_id = db.snapshot_id
        if answer is None:
            return error_response(404, not_found)
        headers = {"ETag": answer.etag, "X-Snapshot-ID": db.snapshot_id, **dict(answer.headers)}
        if _etag_matches(request.headers.get("if-none-match"), answer.etag):
            return Response(status_code=304, headers=headers)
        body = answer.head + utc_now_iso().encode() + answer.tail if answer.head else answer.tail
        return Response(content=body, media_type=answer.media_type, headers=headers)

    def _run(
        self,
        db: SnapshotDb,
        calls: Sequence[QueryCall],
        render: Renderer,
        exists: QueryCall | None,
    ) -> CachedAnswer | None:
        answers = [self.fetch(db, call) for call in calls]
        if exists is not None and answers[0].total == 0 and not self.fetch(db, exists).rows:
            return None
        return render(answers)


def page_renderer(page: Page, output: OutputFormat, message: str, name: str) -> Renderer:
    """Render the (only) answer as a page of rows: the list envelope, or CSV."""

    def render_answers(answers: Sequence[QueryAnswer]) -> CachedAnswer:
        return render(answers[0], page, output, message, name)

    return render_answers


def object_renderer(
    message: str, build: Callable[[Sequence[QueryAnswer]], dict[str, Any] | None]
) -> Renderer:
    """Render the object `build` makes of the answers as the envelope's `data` (None: 404)."""

    def render_answers(answers: Sequence[QueryAnswer]) -> CachedAnswer | None:
        data = build(answers)
        if data is None:
            return None
        tail = b'","data":' + orjson.dumps(data, default=_json_default) + b"}"
        return CachedAnswer(
            head=_json_head(message),
            tail=tail,
            media_type="application/json",
            etag=_etag(answers[0].snapshot_id, tail),
        )

    return render_answers


def render(
    answer: QueryAnswer, page: Page, output: OutputFormat, message: str, name: str
) -> CachedAnswer:
    """Render a page of rows as the JSON envelope (split around the timestamp) or as CSV."""
    truncated = page.offset + len(answer.rows) < answer.total
    if output == "csv":
        text = _csv_text(answer.columns, answer.rows).encode()
        return CachedAnswer(
            head=b"",
            tail=text,
            media_type="text/csv; charset=utf-8",
            etag=_etag(answer.snapshot_id, text),
            headers=(
                ("Content-Disposition", f'attachment; filename="{name}.csv"'),
                ("X-Total-Count", str(answer.total)),
                ("X-Truncated", "true" if truncated else "false"),
            ),
        )
    data = orjson.dumps(answer.records(), default=_json_default)
    tail = b"".join(
        (
            b'","data":',
            data,
            b',"count":%d,"total":%d,"truncated":%s,'
            % (len(answer.rows), answer.total, b"true" if truncated else b"false"),
            _page_fields(page, answer.total),
            b"}",
        )
    )
    return CachedAnswer(
        head=_json_head(message),
        tail=tail,
        media_type="application/json",
        etag=_etag(answer.snapshot_id, tail),
    )


def _page_fields(page: Page, total: int) -> bytes:
    if page.numbered:
        return b'"page":%d,"page_size":%d,"pages":%d' % (
            page.offset // page.limit + 1,
            page.limit,
            math.ceil(total / page.limit),
        )
    return b'"limit":%d,"offset":%d' % (page.limit, page.offset)


def _json_head(message: str) -> bytes:
    return b'{"success":true,"message":' + orjson.dumps(message) + b',"timestamp":"'


def _bind(
    query: SqlQuery, parameters: Mapping[str, Any], snapshot: PublishedSnapshot
) -> dict[str, Any]:
    """The request's parameters plus the snapshot's own that the query names; exactly what the
    query binds, or ValueError naming the file (a route passing the wrong set is a bug)."""
    from_snapshot = query.parameters & SNAPSHOT_PARAMETERS.keys()
    given = set(parameters)
    if given & from_snapshot or given | from_snapshot != query.parameters:
        raise ValueError(
            f"{query.path} binds {sorted(query.parameters)} but was given {sorted(given)} "
            f"(the service binds {sorted(SNAPSHOT_PARAMETERS)})"
        )
    return {
        **parameters,
        **{name: SNAPSHOT_PARAMETERS[name](snapshot) for name in from_snapshot},
    }


def _normalise(parameters: Mapping[str, Any]) -> Hashable:
    return tuple(
        sorted(
            (name, tuple(value) if isinstance(value, list | tuple) else value)
            for name, value in parameters.items()
        )
    )


def _etag(snapshot_id: str, content: bytes) -> str:
    digest = hashlib.blake2b(content, digest_size=12, key=snapshot_id.encode()[:64])
    return f'"{digest.hexdigest()}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _csv_text(columns: list[str], rows: Sequence[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_csv_value(value) for value in row] for row in rows)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return value
