"""What the audit trail listens to: every domain event, admin log entries, migrations.

Events arrive through the inbox (one entry per event, however often it is redelivered).
Admin ``LogEntry`` rows and ``post_migrate`` are Django signals: the accepted exceptions for
staff actions in the back office and for permissions that exist only after migrating.
"""

import json
from typing import Any

import structlog
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from retail.audit import domain, services
from retail.platform.events import DomainEvent
from retail.platform.inbox import EventContext, handles_every_event_in_batches

_ADMIN_ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


@handles_every_event_in_batches(consumer="audit.trail", lane="audit")
def audit_trail_on_events(deliveries: list[tuple[DomainEvent, EventContext]]) -> None:
    """One entry per event, a relay batch's worth under one chain lock, in a lane of its own:
    the core relay never waits for the chain lock that every effecting request also takes."""
    services.entries_append([_event_entry(event, context) for event, context in deliveries])


def _event_entry(event: DomainEvent, context: EventContext) -> dict[str, Any]:
    payload = event.payload()
    channel = payload.get("channel")
    channel = channel if isinstance(channel, str) else ""
    actor = payload.get("actor")
    return {
        "kind": domain.event_kind(event.event_type, event.aggregate_type),
        "action": event.event_type,
        "actor": actor if isinstance(actor, str) and actor else _event_actor(channel),
        "channel": channel,
        "idempotency_key": str(context.event_id),
        "request_id": context.request_id,
        "order_id": domain.event_order_id(event.aggregate_type, event.aggregate_id, payload),
        "data": {
            "event_type": event.event_type,
            "version": event.version,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "occurred_at": domain.timestamp_text(context.occurred_at),
            "payload": payload,
        },
    }


def _event_actor(channel: str) -> str:
    return f"channel:{channel}" if channel else domain.SYSTEM_ACTOR


@receiver(post_save, sender=LogEntry, dispatch_uid="audit.admin_log_entry")
def audit_admin_log_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """One ``staff`` entry per add/change/delete made in the admin, in the same transaction."""
    if not created:
        return
    content_type = instance.content_type
    label = f"{content_type.app_label}.{content_type.model}" if content_type else "unknown"
    change_message = _change_message(instance.change_message)
    object_id = str(instance.object_id)  # admin passes the pk itself (an int for most models)
    with transaction.atomic():  # the admin's own transaction, when there is one
        services.entry_append(
            kind=domain.Kind.STAFF,
            action=f"admin.{_ADMIN_ACTIONS.get(instance.action_flag, 'logged')} {label}",
            actor=f"staff:{instance.user.get_username()}",
            request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
            order_id=object_id if label == "orders.order" else None,
            data={
                "object": label,
                "object_id": object_id,
                "object_repr": instance.object_repr,
                "change_message": change_message,
                "reason": _reason(change_message),
            },
        )


def _change_message(raw: str) -> Any:
    try:
        return json.loads(raw) if raw else []
    except ValueError:
        return raw


def _reason(change_message: Any) -> str:
    """``AuditedHistoryAdmin`` adds ``{"reason": …}`` to the admin's change message."""
    if isinstance(change_message, list):
        for part in change_message:
            if isinstance(part, dict) and isinstance(part.get("reason"), str):
                return part["reason"]
    return ""


@receiver(post_migrate, dispatch_uid="audit.auditor_permissions")
def auditor_permissions_after_migrate(sender: Any, **kwargs: Any) -> None:
    """Runs after each app's permissions exist, so the last run covers every model."""
    services.auditor_permissions_sync()
