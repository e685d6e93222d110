"""Pure routing rules: route matching, canary buckets, header hygiene, body comparison."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HTTP_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE"}
CANARY_BUCKETS = 100

# RFC 9110 §7.6.1 plus the long-standing ones proxies drop (Keep-Alive, Proxy-Connection).
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class Mode(enum.StrEnum):
    LEGACY = "legacy"
    NEW = "new"
    SHADOW = "shadow"
    CANARY = "canary"


class Side(enum.StrEnum):
    """Who answers the client."""

    LEGACY = "legacy"
    NEW = "new"


@dataclass(frozen=True)
class RouteRule:
    route_id: int | None
    prefix: str
    mode: Mode
    methods: frozenset[str] = frozenset()
    canary_percent: int = 0
    shadow_ignore_fields: frozenset[str] = frozenset()

    def applies_to(self, path: str, method: str) -> bool:
        return path.startswith(self.prefix) and (not self.methods or method in self.methods)


class RouteTable:
    """Enabled rules; the longest prefix that applies to the method wins."""

    def __init__(self, rules: Iterable[RouteRule]) -> None:
        self.rules = tuple(sorted(rules, key=lambda rule: len(rule.prefix), reverse=True))

    def match(self, path: str, method: str) -> RouteRule | None:
        return next((rule for rule in self.rules if rule.applies_to(path, method)), None)

    def __len__(self) -> int:
        return len(self.rules)


def describe(state: dict[str, Any] | None) -> str:
    """``canary 10 % [GET, HEAD]``, ``new (disabled)``, ``(none)``."""
    if state is None:
        return "(none)"
    text = state["mode"]
    if state["mode"] == "canary":
        text += f" {state['canary_percent']} %"
    if state["methods"]:
        text += f" [{', '.join(state['methods'])}]"
    if not state["enabled"]:
        text += " (disabled)"
    return text


# Spellings of "/" and "." that a server behind us may decode after we routed the raw path.
_ENCODED_SEPARATORS = ("%2f", "%2e", "%5c")


def is_canonical_target(target: str) -> bool:
    """A request target whose path routes as it will be served: no ``.`` or ``..`` segment,
    no empty segment (``//``), no encoded ``/``, ``.`` or ``\\``, no ``\\``. Anything else
    could be routed by one spelling and resolved by legacy as another
    (``/legacy/../api/v1/orders/``: routed to legacy, served there as a moved route)."""
    path = target.split("?", 1)[0]
    lowered = path.lower()
    if "\\" in path or any(code in lowered for code in _ENCODED_SEPARATORS):
        return False
    segments = path.split("/")[1:]
    return all(segment not in (".", "..") for segment in segments) and "//" not in path


def is_operational(path: str, prefixes: Iterable[str]) -> bool:
    """Rastro's own paths: ``/admin/`` covers its subtree, ``/healthz`` itself and below."""
    for prefix in prefixes:
        if prefix.endswith("/"):
            if path.startswith(prefix):
                return True
        elif path == prefix or path.startswith(prefix + "/"):
            return True
    return False


def canary_bucket(client_key: str) -> int:
    """A stable bucket 0-99 per client: raising the percent keeps earlier assignments."""
    digest = hashlib.sha256(client_key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % CANARY_BUCKETS


def decide(rule: RouteRule | None, client_key: str | None) -> tuple[Side, bool]:
    """Who answers, and whether the new side runs in the shadow too. No rule → legacy."""
    if rule is None or rule.mode is Mode.LEGACY:
        return Side.LEGACY, False
    if rule.mode is Mode.NEW:
        return Side.NEW, False
    if rule.mode is Mode.SHADOW:
        return Side.LEGACY, True
    assert client_key is not None, "a canary decision needs the client"
    return (Side.NEW if canary_bucket(client_key) < rule.canary_percent else Side.LEGACY), False


def hop_by_hop_names(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The fixed hop-by-hop names plus every name the ``Connection`` header lists."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }
    return HOP_BY_HOP_HEADERS | named


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers a proxy passes on (RFC 9110 §7.6.1)."""
    headers = list(headers)
    dropped = hop_by_hop_names(headers)
    return [(name, value) for name, value in headers if name.lower() not in dropped]


# What only a proxy may say about a request; a client's own values are dropped (the
# X-Forwarded-* ones are then written by this proxy).
CLIENT_FORGEABLE_HEADERS = frozenset(
    {
        "forwarded",
        "x-real-ip",
        "x-original-url",
        "x-rewrite-url",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)


def for_legacy(
    headers: Iterable[tuple[str, str]], own_credentials: Iterable[str], own_cookies: Iterable[str]
) -> list[tuple[str, str]]:
    """The client's end-to-end headers minus what legacy must never see: headers a client
    could forge, an ``Authorization`` bearing one of Rastro's own keys or tokens (by prefix),
    Rastro's own cookies (the admin session, CSRF, messages)."""
    prefixes, cookies = tuple(own_credentials), frozenset(own_cookies)
    kept = []
    for name, value in end_to_end(headers):
        lowered = name.lower()
        if lowered in CLIENT_FORGEABLE_HEADERS:
            continue
        if lowered == "authorization" and _bearer_of(value).startswith(prefixes):
            continue
        if lowered == "cookie":
            value = "; ".join(
                pair
                for pair in (part.strip() for part in value.split(";"))
                if pair and pair.split("=", 1)[0].strip() not in cookies
            )
            if not value:
                continue
        kept.append((name, value))
    return kept


def _bearer_of(authorization: str) -> str:
    scheme, _, credential = authorization.strip().partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def rewrite_location(location: str, upstream_origin: str, public_origin: str) -> str:
    """A redirect to the upstream's own host points at the public host instead."""
    target = urlsplit(location)
    upstream = urlsplit(upstream_origin)
    if (target.scheme, target.netloc.lower()) != (upstream.scheme, upstream.netloc.lower()):
        return location
    public = urlsplit(public_origin)
    return urlunsplit((public.scheme, public.netloc, target.path, target.query, target.fragment))


MAX_DIFFERENCES = 20


def _without(value: Any, ignored: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [_without(item, ignored) for item in value]
    return value


def _differences(legacy: Any, new: Any, path: str, found: list[str]) -> None:
    if len(found) >= MAX_DIFFERENCES:
        return
    if isinstance(legacy, dict) and isinstance(new, dict):
        for key in sorted(legacy.keys() | new.keys()):
            where = f"{path}/{key}"
            if key not in legacy or key not in new:
                found.append(where)
            else:
                _differences(legacy[key], new[key], where, found)
    elif isinstance(legacy, list) and isinstance(new, list):
        if len(legacy) != len(new):
            found.append(f"{path} (length {len(legacy)} vs {len(new)})")
        for index, (old_item, new_item) in enumerate(zip(legacy, new, strict=False)):
            _differences(old_item, new_item, f"{path}/{index}", found)
    elif legacy != new or type(legacy) is not type(new):
        found.append(path or "/")


def body_differences(legacy: bytes, new: bytes, ignored: frozenset[str]) -> list[str]:
    """JSON-pointer-like paths where two bodies differ, ignored field names left out.

    Bodies that are not both JSON (or nest too deep to walk) are compared byte for byte
    (``["body"]`` when they differ).
    """
    try:
        legacy_json, new_json = json.loads(legacy), json.loads(new)
        found: list[str] = []
        _differences(_without(legacy_json, ignored), _without(new_json, ignored), "", found)
    except (ValueError, RecursionError):  # not JSON, or nested past what the walk can follow
        return [] if legacy == new else ["body"]
    return found
