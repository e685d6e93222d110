"""Windowed aggregates of the operation records: written by upsert with each record, read by
the rules' screens (``services._may_fire``) and by the shared-identity rule.

Each read is bounded by the rule's window and by the number of distinct things counted
(minutes, instruments, customers behind one identity), never by how many operations the holder
or an address already has, so a hot customer costs what a new one does.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Sum

from retail.compliance import domain
from retail.compliance.models import HolderActivity, HolderInstrument, IdentityUse

_ATTEMPTS_ADD = """
    INSERT INTO compliance_holder_activity (customer_id, bucket, attempts)
    SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::int[])
    ON CONFLICT (customer_id, bucket)
    DO UPDATE SET attempts = compliance_holder_activity.attempts + excluded.attempts
"""
_INSTRUMENTS_USE = """
    INSERT INTO compliance_holder_instrument (customer_id, instrument, last_used_at)
    SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[])
    ON CONFLICT (customer_id, instrument) DO UPDATE
    SET last_used_at = GREATEST(compliance_holder_instrument.last_used_at, excluded.last_used_at)
"""
_IDENTITIES_USE = """
    INSERT INTO compliance_identity_use (attribute, value, customer_id, last_used_at)
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])
    ON CONFLICT (attribute, value, customer_id) DO UPDATE
    SET last_used_at = GREATEST(compliance_identity_use.last_used_at, excluded.last_used_at)
"""


def operations_add(operations: list[domain.OperationSummary]) -> None:
    """Adds operations whose holder is known to the holder's aggregates. Callers pass each
    operation once: in the transaction that records it or that makes its holder known."""
    attempts = [op for op in operations if op.customer_id and op.is_attempt]
    per_minute = Counter((op.customer_id, _minute(op.occurred_at)) for op in attempts)
    _upsert(_ATTEMPTS_ADD, [(*key, count) for key, count in per_minute.items()])
    instruments = _latest(
        (op.customer_id, op.instrument, op.occurred_at) for op in attempts if op.instrument
    )
    _upsert(_INSTRUMENTS_USE, instruments)
    orders = [op for op in operations if op.customer_id and op.kind is domain.Kind.ORDER]
    identities = _latest(
        (attribute, value, op.customer_id, op.occurred_at)
        for op in orders
        for attribute, value in (("email", op.email), ("client_ip", op.client_ip))
        if value and not is_shared_address(attribute, value)
    )
    _upsert(_IDENTITIES_USE, identities)


def _latest(uses: Any) -> list[tuple[Any, ...]]:
    """``(*key, at)`` rows, one per key with its latest ``at`` (an upsert touches a row once)."""
    latest: dict[tuple[Any, ...], datetime] = {}
    for *key, at in uses:
        latest[tuple(key)] = max(at, latest.get(tuple(key), at))
    return [(*key, at) for key, at in latest.items()]


def _upsert(sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for all rows, in key order (two transactions never lock them crosswise)."""
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*sorted(rows), strict=True)])


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def is_shared_address(attribute: str, value: str) -> bool:
    """An end-customer IP known to be shared by many people (a carrier's NAT, a store's Wi-Fi,
    ``COMPLIANCE_SHARED_ADDRESSES``): it never links customers."""
    if attribute != "client_ip":
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.COMPLIANCE_SHARED_ADDRESSES)


def velocity_counts(trigger: domain.OperationSummary, params: dict[str, Any]) -> dict[str, int]:
    """At least the attempts and distinct instruments of the holder in the velocity window
    (whole minutes, instruments last used since its start): what its screen compares."""
    since = trigger.occurred_at - timedelta(minutes=params["window_minutes"])
    activity = HolderActivity.objects.filter(
        customer_id=trigger.customer_id, bucket__gte=_minute(since), bucket__lte=trigger.occurred_at
    )
    instruments = HolderInstrument.objects.filter(
        customer_id=trigger.customer_id, last_used_at__gte=since
    )
    return {
        "attempts": activity.aggregate(total=Sum("attempts"))["total"] or 0,
        "instruments": instruments.count(),
    }


def identity_peers(
    trigger: domain.OperationSummary, attributes: list[str], since: datetime
) -> dict[str, frozenset[str]]:
    """Per attribute, the customers whose orders used the trigger's value since ``since``."""
    peers: dict[str, frozenset[str]] = {}
    for attribute in attributes:
        value = getattr(trigger, attribute)
        if not value or is_shared_address(attribute, value):
            continue
        customers = IdentityUse.objects.filter(
            attribute=attribute, value=value, last_used_at__gte=since
        ).values_list("customer_id", flat=True)
        peers[attribute] = frozenset(customers)
    return peers
