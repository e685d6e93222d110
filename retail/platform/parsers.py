"""Request bodies as JSON, bounded: what nests deeper than ``MAX_JSON_DEPTH`` is malformed
input (a 4xx), never a ``RecursionError`` (a 500) here or in whatever walks the value later
(the audit entry's hashing, the idempotency fingerprint, a serializer)."""

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 64  # an order body nests 3 deep; a partner's or the PSP's, 3


class JsonTooDeep(ValueError):
    """Valid JSON, nested past ``MAX_JSON_DEPTH``: refused like JSON that is not valid."""


def json_parse(raw: bytes | str) -> Any:
    """``json.loads``, raising ``JsonTooDeep`` (a ``ValueError``) past ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH}") from None
    json_depth_check(value)
    return value


def json_depth_check(value: Any) -> None:
    """Walks ``value`` without recursion (it may be deep enough to exhaust the stack)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: too deep is malformed (400), not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            value = super().parse(stream, media_type, parser_context)
            json_depth_check(value)
        except (RecursionError, JsonTooDeep):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH}.") from None
        return value
