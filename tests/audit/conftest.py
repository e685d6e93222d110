"""Storefront and payments fixtures: channels with keys, stocked SKUs, tasks kept in-process."""

from tests.payments.conftest import sent_tasks, skus  # noqa: F401 - fixtures
