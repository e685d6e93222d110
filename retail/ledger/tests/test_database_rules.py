"""The database itself refuses unbalanced entries (at commit) and any change to the journal."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from retail.ledger import handlers
from retail.ledger.domain import FIXED_ACCOUNTS
from retail.ledger.models import Account, JournalEntry, Posting
from retail.ledger.tests.support import captured, context

pytestmark = pytest.mark.django_db(transaction=True)


def accounts(*codes):
    """The fixed accounts (a transactional test's flush empties what the data migration made)."""
    return [account_ensure(spec) for code in codes for spec in FIXED_ACCOUNTS if spec.code == code]


def account_ensure(spec):
    defaults = {"name": spec.name, "kind": spec.kind, "normal_side": spec.normal_side}
    return Account.objects.get_or_create(code=spec.code, defaults=defaults)[0]


def entry_insert():
    return JournalEntry.objects.create(
        source_event_id=uuid.uuid4(),
        purpose="test.manual",
        source_reference=f"manual-{uuid.uuid4()}",
        event_type="Manual",
        occurred_at=timezone.now(),
        posted_at=timezone.now(),
    )


def committed_entry(*legs):
    """One entry with postings ``(account, amount)``, in its own committed transaction."""
    with transaction.atomic():
        entry = entry_insert()
        for account, amount in legs:
            Posting.objects.create(entry=entry, account=account, amount=amount)
        # Inside the transaction nothing complains yet: the check is deferred to commit.
        assert Posting.objects.filter(entry=entry).count() == len(legs)
    return entry


def committed_sql(*statements):
    with transaction.atomic(), connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)


def test_a_balanced_pair_commits():
    clearing, revenue = accounts("psp_clearing", "sales_revenue")
    entry = committed_entry((clearing, 500), (revenue, -500))
    assert Posting.objects.filter(entry=entry).count() == 2


def test_a_pair_that_does_not_sum_to_zero_is_refused_at_commit_and_leaves_nothing():
    clearing, revenue = accounts("psp_clearing", "sales_revenue")
    with pytest.raises(IntegrityError, match="does not balance"):
        committed_entry((clearing, 500), (revenue, -499))
    assert JournalEntry.objects.count() == 0
    assert Posting.objects.count() == 0


def test_an_entry_with_one_posting_or_none_is_refused_at_commit():
    (clearing,) = accounts("psp_clearing")
    with pytest.raises(IntegrityError, match="needs at least 2"):
        committed_entry()
    with pytest.raises(IntegrityError, match="needs at least 2"):
        committed_entry((clearing, 1))
    assert JournalEntry.objects.count() == 0


def test_a_zero_posting_is_refused():
    clearing, revenue = accounts("psp_clearing", "sales_revenue")
    with pytest.raises(IntegrityError, match="ledger_posting_nonzero"):
        committed_entry((clearing, 0), (revenue, 0))


def test_an_unbalanced_entry_written_in_raw_sql_is_refused_at_commit():
    clearing, revenue = accounts("psp_clearing", "sales_revenue")
    entry_sql = (
        "INSERT INTO ledger_journal_entry (id, source_event_id, purpose, source_reference,"
        " event_type, order_id, channel, memo, occurred_at, posted_at)"
        " VALUES (424242, gen_random_uuid(), 'x', 'x', 'x', '', '', '', now(), now())"
    )
    postings_sql = "INSERT INTO ledger_posting (entry_id, account_id, amount) VALUES (424242, %s, 100), (424242, %s, -1)"  # noqa: E501
    with pytest.raises(IntegrityError, match="does not balance"):
        committed_sql((entry_sql, []), (postings_sql, [clearing.pk, revenue.pk]))
    assert JournalEntry.objects.count() == 0


@pytest.fixture
def posted_capture():
    with transaction.atomic():
        handlers.payment_captured_post(captured(), context())
    return JournalEntry.objects.order_by("pk").first()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount = amount * 2",
        "UPDATE ledger_posting SET account_id = account_id",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_journal_entry SET memo = 'edited'",
        "UPDATE ledger_journal_entry SET posted_at = now() - interval '1 year'",
        "DELETE FROM ledger_journal_entry",
    ],
)
def test_raw_sql_update_or_delete_of_the_journal_is_refused(posted_capture, statement):
    before = list(Posting.objects.order_by("pk").values_list("pk", "account_id", "amount"))
    with pytest.raises(IntegrityError, match="append-only"):
        committed_sql((statement, []))
    assert list(Posting.objects.order_by("pk").values_list("pk", "account_id", "amount")) == before
    assert JournalEntry.objects.get(pk=posted_capture.pk).memo == posted_capture.memo


def test_the_orm_cannot_change_the_journal_either(posted_capture):
    posted_capture.memo = "edited"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        posted_capture.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Posting.objects.filter(entry=posted_capture).delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_account SET code = 'other' WHERE code = 'psp_clearing'",
        "UPDATE ledger_account SET normal_side = 'credit' WHERE code = 'psp_clearing'",
        "UPDATE ledger_account SET currency = 'USD' WHERE code = 'psp_clearing'",
        "DELETE FROM ledger_account WHERE code = 'sales_refunds'",
    ],
)
def test_accounts_may_be_renamed_but_not_recoded_resided_or_deleted(posted_capture, statement):
    accounts("sales_refunds")
    Account.objects.filter(code="psp_clearing").update(name="PSP clearing (Acme Pay)")
    with pytest.raises(IntegrityError, match="may only be renamed"):
        committed_sql((statement, []))
    assert Account.objects.filter(code__in=["psp_clearing", "sales_refunds"]).count() == 2
    assert Account.objects.get(code="psp_clearing").normal_side == "debit"
