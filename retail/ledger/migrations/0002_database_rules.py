"""The ledger's rules, in the database so that no code path (ORM, raw SQL, psql) escapes them.

- An entry's postings sum to zero per currency and are at least two: constraint triggers,
  DEFERRABLE INITIALLY DEFERRED, so they judge the whole entry at commit.
- Entries and postings are append-only: UPDATE and DELETE raise (corrections are reversing
  entries). Accounts may be renamed, never re-coded, re-sided or deleted.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_entry bigint;
    legs integer;
    unbalanced text;
BEGIN
    IF TG_TABLE_NAME = 'ledger_posting' THEN
        checked_entry := NEW.entry_id;
    ELSE
        checked_entry := NEW.id;
    END IF;
    SELECT count(*) INTO legs FROM ledger_posting WHERE entry_id = checked_entry;
    IF legs < 2 THEN
        RAISE EXCEPTION 'ledger: journal entry % has % posting(s), needs at least 2',
            checked_entry, legs USING ERRCODE = 'check_violation';
    END IF;
    SELECT string_agg(format('%s %s', currency, total), ', ') INTO unbalanced
    FROM (SELECT a.currency, sum(p.amount) AS total
          FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
          WHERE p.entry_id = checked_entry
          GROUP BY a.currency HAVING sum(p.amount) <> 0) AS sums;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: journal entry % does not balance (%)', checked_entry, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_posting_entry_balances
    AFTER INSERT ON ledger_posting DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
CREATE CONSTRAINT TRIGGER ledger_journal_entry_balances
    AFTER INSERT ON ledger_journal_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % is append-only, % refused (post a reversing entry)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER ledger_journal_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_journal_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_posting_append_only
    BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE FUNCTION ledger_account_identity_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.code, NEW.kind, NEW.normal_side, NEW.currency)
            IS DISTINCT FROM (OLD.code, OLD.kind, OLD.normal_side, OLD.currency) THEN
        RAISE EXCEPTION 'ledger: account % may only be renamed, % refused', OLD.code, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_identity_fixed
    BEFORE UPDATE OR DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_identity_fixed();
"""

BACKWARD = """
DROP TRIGGER ledger_account_identity_fixed ON ledger_account;
DROP TRIGGER ledger_posting_append_only ON ledger_posting;
DROP TRIGGER ledger_journal_entry_append_only ON ledger_journal_entry;
DROP TRIGGER ledger_journal_entry_balances ON ledger_journal_entry;
DROP TRIGGER ledger_posting_entry_balances ON ledger_posting;
DROP FUNCTION ledger_account_identity_fixed();
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_entry_must_balance();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
