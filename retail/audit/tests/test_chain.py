"""The chain on real PostgreSQL: strict sequence, append-only tables, verify, checkpoints."""

import itertools
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from retail.audit import domain, selectors, services
from retail.audit.models import AuditCheckpoint, AuditEntry
from retail.audit.tests.factories import append, as_superuser_without_trigger, manage

pytestmark = pytest.mark.django_db(transaction=True)


def verify_command() -> tuple[int, str]:
    """``manage.py audit_verify`` as operators run it, against this test database."""
    return manage("audit_verify")


def test_entries_chain_from_the_genesis_with_consecutive_seqs():
    append(3)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert [entry.prev_hash for entry in entries[1:]] == [entry.hash for entry in entries[:-1]]
    assert all(a.at <= b.at for a, b in itertools.pairwise(entries))
    assert entries[0].retain_until.year == entries[0].at.year + 11
    assert verify_command() == (0, f"OK 3 entries head={entries[-1].hash}\n")


def test_an_append_outside_a_transaction_is_refused():
    with pytest.raises(services.AuditOutsideTransaction):
        services.entry_append(kind="event", action="Probe")
    assert not AuditEntry.objects.exists()


def test_a_rolled_back_append_leaves_no_gap():
    append(1)

    def failing_operation() -> None:
        with transaction.atomic():
            services.entry_append(kind="event", action="Doomed")
            raise RuntimeError("the operation failed")

    with pytest.raises(RuntimeError):
        failing_operation()
    append(1)
    assert list(AuditEntry.objects.values_list("seq", flat=True).order_by("seq")) == [1, 2]
    assert selectors.chain_verify().ok


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE audit_entry SET action = 'edited'", "audit_entry"),
        ("DELETE FROM audit_entry", "audit_entry"),
        ("UPDATE audit_checkpoint SET hash = 'x'", "audit_checkpoint"),
        ("DELETE FROM audit_checkpoint", "audit_checkpoint"),
    ],
)
def test_the_database_refuses_updates_and_deletes(statement, table):
    append(2)
    services.checkpoint_create()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(statement)
    assert AuditEntry.objects.filter(action="edited").count() == 0
    assert AuditEntry.objects.count() == 2
    assert AuditCheckpoint.objects.count() == 1


def test_even_the_purge_flag_cannot_delete_an_entry_still_retained():
    append(1)

    def delete_with_the_purge_flag() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('audit.purging', 'on', true)")
            cursor.execute("DELETE FROM audit_entry")

    with pytest.raises(DatabaseError, match="append-only"):
        delete_with_the_purge_flag()
    assert AuditEntry.objects.count() == 1


def test_a_planted_edit_is_named_by_verify():
    append(5)
    as_superuser_without_trigger(
        "UPDATE audit_entry SET data = '{\"n\": 99}'::jsonb WHERE seq = 3", []
    )
    code, message = verify_command()
    assert code == 1
    assert "BROKEN at entry 3: entry 3 content altered" in message
    assert selectors.chain_verify().first_broken == 3


def test_a_deleted_tail_is_caught_by_the_checkpoint():
    append(4)
    services.checkpoint_create()
    as_superuser_without_trigger("DELETE FROM audit_entry WHERE seq = 4", [])
    code, message = verify_command()
    assert code == 1
    assert "BROKEN at entry 4: entry 4 missing (checkpointed, now gone)" in message
    assert selectors.chain_verify().first_broken == 4


def test_the_checkpoint_command_records_the_head():
    append(2)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.seq == 2
    assert checkpoint.hash == AuditEntry.objects.get(seq=2).hash
    assert f"seq=2 hash={checkpoint.hash}" in out.getvalue()


def test_concurrent_appenders_keep_a_strict_gapless_chain():
    writers, per_writer = 4, 40
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            append(per_writer)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    services.checkpoint_create()
    result = selectors.chain_verify()
    assert (result.ok, result.entries) == (True, writers * per_writer)


@pytest.mark.parametrize(
    ("seq", "prev_hash", "why"),
    [(5, "head", "a gap"), (3, "head", "a taken seq"), (4, "0" * 64, "a prev_hash not the head's")],
)
def test_the_database_refuses_an_entry_that_does_not_follow_the_head(seq, prev_hash, why):
    append(3)
    head = AuditEntry.objects.get(seq=3)
    forged = AuditEntry(
        **{**vars(head.content()), "seq": seq},
        prev_hash=head.hash if prev_hash == "head" else prev_hash,
        hash="f" * 64,
    )
    with pytest.raises(DatabaseError, match="does not follow the chain head"), transaction.atomic():
        forged.save(force_insert=True)
    assert AuditEntry.objects.count() == 3, why


def test_checkpoints_are_signed_and_a_re_signed_rewrite_is_caught(settings):
    append(3)
    services.checkpoint_create()
    first = AuditCheckpoint.objects.get()
    assert first.mac == domain.checkpoint_mac(
        settings.AUDIT_CHECKPOINT_KEY.encode(), 3, first.hash, ""
    )
    # Whoever owns the database rewrites an entry, re-hashes the chain after it and the
    # checkpoint too, but cannot compute the MAC without the key.
    as_superuser_without_trigger("UPDATE audit_checkpoint SET hash = %s", ["e" * 64])

    result = selectors.chain_verify()

    assert (result.ok, result.first_broken) == (False, 3)
    assert result.reason == "checkpoint at entry 3 is forged"


def test_an_emptied_chain_fails_verify_when_a_checkpoint_says_otherwise():
    append(2)
    services.checkpoint_create()
    as_superuser_without_trigger("DELETE FROM audit_entry", [])

    code, message = verify_command()

    assert code == 1
    assert "BROKEN at entry 2" in message
