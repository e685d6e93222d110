"""A channel's code and kind are fixed once it has orders, in the database too, so that no code
path (ORM ``update()``, raw SQL, psql) re-points its orders or changes what they were taken
under. Deleting such a channel is refused the same way."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION channels_identity_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code
                         OR NEW.kind IS DISTINCT FROM OLD.kind)
       AND EXISTS (SELECT 1 FROM orders_order WHERE channel_code = OLD.code) THEN
        RAISE EXCEPTION 'channels: % has orders, its code and kind are fixed (% refused)',
            OLD.code, TG_OP USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER channels_channel_identity_fixed
    BEFORE UPDATE OF code, kind OR DELETE ON channels_channel
    FOR EACH ROW EXECUTE FUNCTION channels_identity_fixed();
"""

BACKWARD = """
DROP TRIGGER channels_channel_identity_fixed ON channels_channel;
DROP FUNCTION channels_identity_fixed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0002_historicalapikey_historicalchannel_and_more"),
        ("orders", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
