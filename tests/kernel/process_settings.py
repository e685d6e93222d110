"""Settings of the worker, beat and gunicorn processes started by the kernel's fault tests.

The production settings plus the probe app (its consumer and fault hooks) and a URLconf with
one idempotent test endpoint. The database and Redis come from the environment the test sets.
"""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.kernel.probe_app"]  # noqa: F405
ROOT_URLCONF = "tests.kernel.http_urls"
