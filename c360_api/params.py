"""Parameter types shared by routes: what a request may send, exactly as the schema says."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """Refuse what pydantic would otherwise read as a date but the schema's `format: date`
    does not allow (a number of seconds since 1970, `2025-1-5`...)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A calendar date written YYYY-MM-DD."""
