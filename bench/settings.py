"""Settings of the benchmark's processes: production settings plus the bench consumer."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.consumer"]  # noqa: F405
