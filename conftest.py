"""Repository-wide pytest setup; keep it tiny.

The strangler routing layer is off under pytest: tests drive the new side through Django's
test client without a route table (an empty table would send ``/api/v1/`` to legacy).
Tests of the layer itself switch it on with ``settings.STRANGLER_ENABLED = True``.
"""


def pytest_configure(config):
    from django.conf import settings

    settings.STRANGLER_ENABLED = False
