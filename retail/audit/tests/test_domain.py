"""The chain's pure rules: canonical content, retention, kinds, and what verification catches."""

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from retail.audit import domain
from retail.audit.domain import Anchor, Checkpoint, EntryContent, StoredEntry

AT = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEY = b"a checkpoint key kept out of the database"


def signed(*points: tuple[int, str], key: bytes = KEY) -> list[Checkpoint]:
    """Checkpoints as ``checkpoint_create`` writes them, each MAC over the one before."""
    checkpoints, previous = [], ""
    for seq, hash_ in points:
        previous = domain.checkpoint_mac(key, seq, hash_, previous)
        checkpoints.append(Checkpoint(seq, hash_, previous))
    return checkpoints


def content(seq: int, **changes: object) -> EntryContent:
    fields: dict[str, object] = {
        "seq": seq,
        "at": AT,
        "kind": "event",
        "action": "Probe",
        "actor": "system",
        "channel": "",
        "idempotency_key": f"k{seq}",
        "request_id": "",
        "order_id": None,
        "data": {"b": 1, "a": "ç"},
        "retain_until": domain.retain_until(AT),
    }
    fields.update(changes)
    return EntryContent(**fields)  # type: ignore[arg-type]


def chain(count: int) -> list[StoredEntry]:
    entries, head = [], domain.GENESIS_HASH
    for seq in range(1, count + 1):
        entry = content(seq)
        entries.append(StoredEntry(entry, head, entry.hash_after(head)))
        head = entries[-1].hash
    return entries


def test_canonical_json_sorts_keys_without_whitespace_and_keeps_utf8():
    assert domain.canonical_json({"b": [1, {"d": 1, "c": 2}], "a": "ção"}) == (
        '{"a":"ção","b":[1,{"c":2,"d":1}]}'
    )


def test_retain_until_is_ten_years_from_the_first_of_january_after_the_operation():
    assert domain.retain_until(datetime(2025, 1, 1, 0, 0, tzinfo=UTC)) == date(2036, 1, 1)
    assert domain.retain_until(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == date(2036, 1, 1)


def test_hash_covers_every_field_and_the_previous_hash():
    base = content(1)
    assert base.hash_after("a" * 64) != base.hash_after("b" * 64)
    for change in (
        {"action": "Other"},
        {"actor": "staff:x"},
        {"data": {"b": 2, "a": "ç"}},
        {"order_id": "ord_1"},
        {"at": AT.replace(microsecond=1)},
        {"retain_until": date(2099, 1, 1)},
    ):
        assert content(1, **change).hash_after("a" * 64) != base.hash_after("a" * 64), change


def test_event_kinds():
    assert domain.event_kind("OrderPaid", "order") == domain.Kind.TRANSITION
    assert domain.event_kind("PartnerOrderSettled", "order") == domain.Kind.EVENT
    assert domain.event_kind("PaymentCaptured", "payment") == domain.Kind.EVENT
    assert domain.event_kind("JournalEntryPosted", "ledger_entry") == domain.Kind.LEDGER
    assert domain.event_kind("PspWebhookReceived", "payment") == domain.Kind.WEBHOOK


def test_order_of_an_event_and_of_a_request():
    assert domain.event_order_id("order", "ord_1", {}) == "ord_1"
    assert domain.event_order_id("payment", "pay_1", {"order_id": "ord_2"}) == "ord_2"
    assert domain.event_order_id("payment", "pay_1", {}) is None
    assert domain.request_order_id({"order_id": "ord_3"}, None, None) == "ord_3"
    assert domain.request_order_id({}, {"data": {"order_id": "ord_4"}}, None) == "ord_4"
    assert domain.request_order_id({}, {"lines": []}, {"id": "ord_5"}) == "ord_5"
    assert domain.request_order_id({}, {"id": "pay_1"}, {"id": "ref_1"}) is None


def test_personal_data_is_redacted_at_any_depth():
    redacted = domain.redact({"customer": {"cpf": "123", "email": "a@b", "name": "Ana"}, "n": 1})
    hidden = "[redacted]"
    assert redacted == {"customer": {"cpf": hidden, "email": hidden, "name": "Ana"}, "n": 1}


def test_an_intact_chain_verifies_and_names_its_head():
    entries = chain(5)
    result = domain.chain_verify(entries, Anchor(), signed((3, entries[2].hash)), KEY)
    assert result == domain.Verification(True, 5, entries[-1].hash, None)


@given(st.integers(min_value=1, max_value=6), st.sampled_from(["action", "data", "actor"]))
def test_an_edit_anywhere_is_named_as_the_first_broken_entry(position, field):
    entries = chain(6)
    edited = entries[position - 1]
    value = {"planted": True} if field == "data" else "planted"
    entries[position - 1] = StoredEntry(
        content(position, **{field: value}), edited.prev_hash, edited.hash
    )
    result = domain.chain_verify(entries, Anchor(), [], KEY)
    assert (result.ok, result.first_broken) == (False, position)


def test_a_missing_middle_entry_is_named():
    entries = chain(5)
    del entries[2]
    assert domain.chain_verify(entries, Anchor(), [], KEY).first_broken == 3


def test_a_deleted_tail_is_caught_only_by_a_checkpoint():
    entries = chain(5)
    checkpoint = signed((5, entries[-1].hash))
    assert domain.chain_verify(entries[:4], Anchor(), [], KEY).ok  # nothing to tell it apart
    result = domain.chain_verify(entries[:4], Anchor(), checkpoint, KEY)
    assert (result.ok, result.first_broken) == (False, 5)


def test_a_rehashed_rewrite_contradicts_the_checkpoint():
    original = chain(3)
    rewritten, head = [], domain.GENESIS_HASH
    for seq in (1, 2, 3):
        entry = content(seq, action="Rewritten")
        rewritten.append(StoredEntry(entry, head, entry.hash_after(head)))
        head = rewritten[-1].hash
    result = domain.chain_verify(rewritten, Anchor(), signed((2, original[1].hash)), KEY)
    assert (result.ok, result.first_broken) == (False, 2)


def test_after_a_purge_the_chain_starts_at_the_anchor():
    entries = chain(5)
    anchor = Anchor(2, entries[1].hash)
    assert domain.chain_verify(entries[2:], anchor, signed((1, entries[0].hash)), KEY).ok
    assert domain.chain_verify(entries[3:], anchor, [], KEY).first_broken == 3


def test_a_rewrite_with_checkpoints_recomputed_without_the_key_is_caught():
    original = chain(3)
    rewritten, head = [], domain.GENESIS_HASH
    for seq in (1, 2, 3):
        entry = content(seq, action="Rewritten")
        rewritten.append(StoredEntry(entry, head, entry.hash_after(head)))
        head = rewritten[-1].hash
    assert original[2].hash != head
    forged = signed((2, rewritten[1].hash), key=b"a guess")

    result = domain.chain_verify(rewritten, Anchor(), forged, KEY)

    assert (result.ok, result.first_broken) == (False, 2)
    assert result.reason == "checkpoint at entry 2 is forged"


def test_a_removed_checkpoint_breaks_the_next_ones_mac():
    entries = chain(5)
    checkpoints = signed((2, entries[1].hash), (4, entries[3].hash), (5, entries[4].hash))
    assert domain.chain_verify(entries, Anchor(), checkpoints, KEY).ok

    result = domain.chain_verify(entries, Anchor(), [checkpoints[0], checkpoints[2]], KEY)

    assert (result.ok, result.first_broken) == (False, 5)


def test_an_emptied_chain_contradicts_its_checkpoint():
    entries = chain(3)
    result = domain.chain_verify([], Anchor(), signed((3, entries[2].hash)), KEY)
    assert (result.ok, result.first_broken) == (False, 3)
