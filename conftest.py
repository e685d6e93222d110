"""Repository-wide pytest setup; keep it tiny.

The strangler routing layer is off under pytest: tests drive the new side through Django's
test client without a route table (an empty table would send ``/api/v1/`` to legacy).
Tests of the layer itself switch it on with ``settings.STRANGLER_ENABLED = True``.

The tests use the deployment's split of database roles: pytest itself is the owner (it creates
and migrates the test databases, and plants what the application could not), and every
process a test starts (web, workers, beat, manage.py) connects as ``DATABASE_APP_ROLE``,
granted by ``migrate`` (``retail.audit.public.app_database_url``).
"""

import os


def pytest_configure(config):
    from django.conf import settings

    settings.STRANGLER_ENABLED = False
    settings.DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "rastro_app")
