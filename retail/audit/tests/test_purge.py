"""Retention: only entries whose retain_until passed can go, through the one database path."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from retail.audit import domain, selectors
from retail.audit.models import AuditEntry, AuditPurge
from retail.audit.tests.factories import append, manage, staff_user, without_triggers
from retail.inventory import public as inventory

pytestmark = pytest.mark.django_db(transaction=True)


def plant_old_entries(count: int, year: int) -> None:
    """Entries written ``year`` (long expired): inserting is allowed, the chain stays valid."""
    head = domain.GENESIS_HASH
    for seq in range(1, count + 1):
        at = datetime(year, 6, 1, tzinfo=UTC) + timedelta(minutes=seq)
        content = domain.EntryContent(
            seq=seq, at=at, kind="event", action="Old", actor="system", channel="",
            idempotency_key="", request_id="", order_id=None, data={},
            retain_until=domain.retain_until(at),
        )  # fmt: skip
        entry = AuditEntry.objects.create(
            **vars(content), prev_hash=head, hash=content.hash_after(head)
        )
        head = entry.hash


@pytest.fixture
def old_and_young_chain() -> None:
    with transaction.atomic():
        plant_old_entries(3, year=2010)
    append(2)
    staff_user("root", superuser=True)


def test_purge_removes_only_the_expired_prefix_and_the_chain_still_verifies(old_and_young_chain):
    code, output = manage(
        "audit_purge", "--before", timezone.now().date().isoformat(), "--by", "root"
    )
    assert code == 0, output
    assert "purged 3 entries through seq 3" in output
    remaining = list(AuditEntry.objects.order_by("seq"))
    assert [entry.action for entry in remaining] == ["Probe0", "Probe1", "audit.purged"]
    assert remaining[-1].actor == "staff:root"
    purge = AuditPurge.objects.get()
    assert (purge.through_seq, purge.deleted) == (3, 3)
    assert selectors.chain_verify().ok
    assert manage("audit_verify")[0] == 0


def test_purge_refuses_a_future_date_and_non_superusers(old_and_young_chain):
    staff_user("clerk")
    tomorrow = (timezone.now().date() + timedelta(days=1)).isoformat()
    assert manage("audit_purge", "--before", tomorrow, "--by", "root")[0] == 2
    assert manage("audit_purge", "--before", "2020-01-01", "--by", "clerk")[0] == 2
    assert AuditEntry.objects.count() == 5
    assert not AuditPurge.objects.exists()


def test_purge_before_an_early_date_keeps_younger_entries(old_and_young_chain):
    code, output = manage("audit_purge", "--before", "2015-01-01", "--by", "root")
    assert code == 0, output
    assert "nothing to purge" in output
    assert AuditEntry.objects.filter(action="Old").count() == 3
    assert date(2021, 1, 1) == AuditEntry.objects.get(seq=1).retain_until


def stock_history() -> Any:
    """One history table of another context (by name: contexts import only public modules)."""
    return apps.get_model("inventory", "HistoricalStockItem")


def test_purge_removes_expired_history_rows_and_keeps_the_younger(old_and_young_chain):
    for sku in ("OLD-SKU", "YOUNG-SKU"):
        inventory.stock_ensure_available(sku=sku, at_least=1, reference="test")
    history = stock_history()
    with without_triggers():  # rows planted as if written ten years ago
        expired = history.objects.filter(sku="OLD-SKU").update(retain_until=date(2015, 1, 1))
    assert expired > 0
    code, output = manage(
        "audit_purge", "--before", timezone.now().date().isoformat(), "--by", "root"
    )
    assert code == 0, output
    assert f"purged {expired} history rows of {history._meta.db_table}" in output
    assert set(history.objects.values_list("sku", flat=True)) == {"YOUNG-SKU"}
    recorded = AuditEntry.objects.get(action="audit.purged")
    assert recorded.data["history_deleted"] == {history._meta.db_table: expired}


def test_purge_keeps_history_rows_still_retained(old_and_young_chain):
    inventory.stock_ensure_available(sku="YOUNG-SKU", at_least=1, reference="test")
    history = stock_history()
    rows = history.objects.count()
    assert rows > 0
    assert manage("audit_purge", "--before", "2030-01-01", "--by", "root")[0] == 2  # future
    code, _ = manage("audit_purge", "--before", timezone.now().date().isoformat(), "--by", "root")
    assert code == 0
    assert history.objects.count() == rows
