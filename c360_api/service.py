"""The query service: run a team query on the current snapshot, page it, render and cache it.

An answer is rendered once into bytes: the JSON envelope split around its timestamp (the only
part that changes between hits) or the CSV text. The cache key is (organisation, snapshot id,
query, normalised parameters, page, format), so a new snapshot is never answered from an old
one's entries. Every answer carries an `ETag`; a matching `If-None-Match` gets 304.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal

import orjson
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from c360_api.cache import AnswerCache, CachedAnswer
from c360_api.engine import SnapshotDb, SnapshotEngine
from c360_api.errors import error_response, utc_now_iso
from c360_api.sql_registry import QueryRegistry, SqlQuery

OutputFormat = Literal["json", "csv"]

# Bound names for paging; a team query cannot use them (they are not snake_case + letter-first).
_LIMIT, _OFFSET = "c360_page_limit", "c360_page_offset"


@dataclass(frozen=True)
class Page:
    """Which rows of an answer to return."""

    limit: int
    offset: int = 0


@dataclass(frozen=True)
class QueryAnswer:
    """Rows of one page of a query, with the total number of rows of the whole answer."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int
    snapshot_id: str


Renderer = Callable[[QueryAnswer], CachedAnswer | None]
"""Shapes a fetched answer into cached bytes; None means "not found" (404)."""


class QueryService:
    """Runs registry queries through the engine and the cache."""

    def __init__(self, registry: QueryRegistry, engine: SnapshotEngine, cache: AnswerCache) -> None:
        self.registry = registry
        self.engine = engine
        self.cache = cache

    def fetch(
        self, db: SnapshotDb, query: SqlQuery, parameters: Mapping[str, Any], page: Page
    ) -> QueryAnswer:
        """Run one page of `query` (and count its rows when the page does not tell)."""
        _check_parameters(query, parameters)
        bound = dict(parameters)
        columns, rows = db.execute(
            f"select * from ({query.sql}) as answer limit ${_LIMIT} offset ${_OFFSET}",
            {**bound, _LIMIT: page.limit, _OFFSET: page.offset},
        )
        if len(rows) < page.limit and (rows or page.offset == 0):
            total = page.offset + len(rows)
        else:
            _, counted = db.execute(
                f"select count(*) from ({query.unordered_sql}) as answer", bound
            )
            total = int(counted[0][0])
        return QueryAnswer(columns=columns, rows=rows, total=total, snapshot_id=db.snapshot_id)

    async def respond(
        self,
        request: Request,
        org: str,
        query_key: tuple[str, str],
        parameters: Mapping[str, Any],
        *,
        page: Page,
        output: OutputFormat = "json",
        message: str,
        renderer: Renderer | None = None,
        not_found: str = "no such record",
    ) -> Response:
        """The HTTP response for one query: cached bytes, 304, or a fresh answer.

        Rows are rendered as a page of the list envelope unless a `renderer` shapes them
        (returning None for a 404 with `not_found`, which is not cached). A cache hit is served
        on the event loop (a lookup and a copy of bytes); everything that blocks - opening an
        organisation's first snapshot, running DuckDB, rendering - runs in the thread pool."""
        query = self.registry.get(*query_key)
        if self.engine.needs_open(org):
            db = await run_in_threadpool(self.engine.acquire, org)
        else:
            db = self.engine.acquire(org)
        try:
            key = (org, db.snapshot_id, query.key, _normalise(parameters), page, output)
            answer = self.cache.get(key)
            cache_hit = answer is not None
            if answer is None:
                shape = renderer or partial(
                    render, page=page, output=output, message=message, name=query.name
                )
                answer = await run_in_threadpool(self._run, db, query, parameters, page, shape)
                if answer is not None:
                    self.cache.put(key, answer)
        finally:
            db.release()
        state = request.state
        state.query_name = query.key
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
        query: SqlQuery,
        parameters: Mapping[str, Any],
        page: Page,
        shape: Renderer,
    ) -> CachedAnswer | None:
        return shape(self.fetch(db, query, parameters, page))


def render_record(
    answer: QueryAnswer, message: str, shape: Callable[[dict[str, Any]], dict[str, Any]]
) -> CachedAnswer | None:
    """The first row, shaped into an object, as the envelope's `data`; None when no row."""
    if not answer.rows:
        return None
    record = shape(dict(zip(answer.columns, answer.rows[0], strict=True)))
    tail = b'","data":' + orjson.dumps(record, default=_json_default) + b"}"
    head = b'{"success":true,"message":' + orjson.dumps(message) + b',"timestamp":"'
    return CachedAnswer(
        head=head, tail=tail, media_type="application/json", etag=_etag(answer.snapshot_id, tail)
    )


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
    data = orjson.dumps(
        [dict(zip(answer.columns, row, strict=True)) for row in answer.rows], default=_json_default
    )
    tail = b"".join(
        (
            b'","data":',
            data,
            b',"count":%d,"total":%d,"truncated":%s,"limit":%d,"offset":%d}'
            % (
                len(answer.rows),
                answer.total,
                b"true" if truncated else b"false",
                page.limit,
                page.offset,
            ),
        )
    )
    head = b'{"success":true,"message":' + orjson.dumps(message) + b',"timestamp":"'
    return CachedAnswer(
        head=head,
        tail=tail,
        media_type="application/json",
        etag=_etag(answer.snapshot_id, tail),
    )


def _check_parameters(query: SqlQuery, parameters: Mapping[str, Any]) -> None:
    given = set(parameters)
    if given != query.parameters:
        raise ValueError(
            f"{query.path} binds {sorted(query.parameters)} but was given {sorted(given)}"
        )


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
