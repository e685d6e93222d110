"""Checkout costs a fixed number of queries whatever the number of lines."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.commerce.conftest import order_body, place

pytestmark = pytest.mark.django_db
QUERY_BUDGET = 33  # 3 of them history rows (customer, stock, reservation): issue 8


def checkout_queries(web, lines, key):
    with CaptureQueriesContext(connection) as captured:
        response = place(web, order_body(*lines), key=key)
    assert response.status_code == 201, response.content
    return len(captured)


def test_checkout_query_count_does_not_grow_with_lines(
    web, stocked_sku, django_assert_max_num_queries
):
    skus = [stocked_sku(f"SKU-{index:03d}").code for index in range(100)]
    one = checkout_queries(web, [(skus[0], 1)], "one")
    hundred = checkout_queries(web, [(sku, 2) for sku in skus], "hundred")
    assert one == hundred
    with django_assert_max_num_queries(QUERY_BUDGET):
        place(web, order_body(*[(sku, 1) for sku in skus]), key="budget")
    print(f"checkout: {one} queries for 1 line, {hundred} for 100 lines")
