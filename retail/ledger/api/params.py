"""Query parameters of the ledger's reports: RFC 3339 times, cursors, limits (400 when bad)."""

import base64
import binascii
from datetime import datetime

from rest_framework.request import Request

from retail.ledger.selectors import StatementPosition
from retail.platform.problems import Problem


def _invalid(name: str, detail: str) -> Problem:
    return Problem(400, "invalid_query_parameter", detail, parameter=name)


def time_param(request: Request, name: str) -> datetime | None:
    """An RFC 3339 time with a UTC offset (``2026-11-25T12:00:00Z``), or None when absent."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))  # a raw '+' arrives as a space
    except ValueError:
        raise _invalid(
            name, f"{name} must be an RFC 3339 time, e.g. 2026-11-25T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise _invalid(name, f"{name} needs a UTC offset (Z or ±hh:mm)")
    return value


def limit_param(request: Request, *, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _invalid("limit", f"limit must be an integer from 1 to {maximum}")
    return int(raw)


def cursor_encode(position: StatementPosition) -> str:
    posted_at, posting_id = position
    return base64.urlsafe_b64encode(f"{posted_at.isoformat()}|{posting_id}".encode()).decode()


def cursor_param(request: Request) -> StatementPosition | None:
    raw = request.query_params.get("cursor")
    if raw is None:
        return None
    try:
        posted_at, posting_id = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        position = (datetime.fromisoformat(posted_at), int(posting_id))
    except (ValueError, binascii.Error, UnicodeError):
        raise _invalid("cursor", "The cursor is not one we issued.") from None
    if position[0].tzinfo is None:
        raise _invalid("cursor", "The cursor is not one we issued.")
    return position
