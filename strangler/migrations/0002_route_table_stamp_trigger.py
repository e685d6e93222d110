"""Every statement that writes the route table bumps the one-row stamp the workers poll."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION strangler_route_table_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO strangler_routetablestamp (id, version, changed_at)
    VALUES (1, 1, clock_timestamp())
    ON CONFLICT (id) DO UPDATE
        SET version = strangler_routetablestamp.version + 1, changed_at = clock_timestamp();
    RETURN NULL;
END
$$;
CREATE TRIGGER strangler_route_table_touched
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON strangler_route
    FOR EACH STATEMENT EXECUTE FUNCTION strangler_route_table_touched();
"""

BACKWARD = """
DROP TRIGGER strangler_route_table_touched ON strangler_route;
DROP FUNCTION strangler_route_table_touched();
"""


class Migration(migrations.Migration):
    dependencies = [("strangler", "0001_route_table")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
