"""300 generated malformed bodies for POST /api/v1/orders/: every answer is a 4xx
problem+json, and nothing is written (no order, customer, reservation, stock move, event)."""

import copy
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail.customers.models import Customer
from retail.customers.public import InvalidCpf, cpf_normalize
from retail.inventory.models import Reservation, StockItem, StockMove
from retail.orders.models import Order
from retail.platform.models import OutboxMessage
from tests.commerce.conftest import order_body

MEGABYTE = 1024 * 1024
VALID = order_body(("TEE", 1))
STRING_LIMITS = {
    ("customer", "name"): 200,
    ("customer", "email"): 254,
    ("payment", "token"): 200,
    ("shipping_address", "street"): 200,
    ("shipping_address", "number"): 20,
    ("shipping_address", "city"): 100,
    ("shipping_address", "state"): 50,
    ("shipping_address", "postal_code"): 20,
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
not_strings = json_values.filter(lambda value: not isinstance(value, str))
broken_text = st.text(max_size=40).flatmap(
    lambda text: st.sampled_from([text + "\ud800", "\x00" + text, text + "\udfff" + text])
)


def with_value(path, value):
    body = copy.deepcopy(VALID)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def without(path):
    body = copy.deepcopy(VALID)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def is_valid_cpf(value):
    try:
        cpf_normalize(value)
    except InvalidCpf:
        return False
    return True


def too_long(limit):
    return st.integers(limit + 1, limit + 50).flatmap(
        lambda size: st.sampled_from(["a" * size, "é" * size, "🙂" * size])
    )


string_paths = st.sampled_from(sorted(STRING_LIMITS))
bad_string_field = string_paths.flatmap(
    lambda path: st.one_of(not_strings, broken_text, too_long(STRING_LIMITS[path])).map(
        lambda value: with_value(path, value)
    )
)
bad_email = st.text(alphabet=st.characters(exclude_characters="@"), max_size=40).map(
    lambda text: with_value(("customer", "email"), text)
)
bad_cpf = (
    st.one_of(json_values, broken_text)
    .filter(lambda value: not is_valid_cpf(value))
    .map(lambda value: with_value(("customer", "cpf"), value))
)
bad_quantity = st.one_of(
    not_strings.filter(lambda value: type(value) is not int),
    st.text(max_size=5),
    st.integers(max_value=0),
    st.integers(min_value=1000),
).map(lambda value: with_value(("lines", 0, "quantity"), value))
bad_sku = st.one_of(
    not_strings, broken_text, st.text(max_size=64).filter(lambda s: s != "TEE")
).map(lambda value: with_value(("lines", 0, "sku"), value))
bad_method = json_values.filter(lambda value: value not in ("card", "pix")).map(
    lambda value: with_value(("payment", "method"), value)
)
bad_lines = st.one_of(
    json_values.filter(lambda value: not isinstance(value, list)),
    st.just([]),
    st.lists(json_values.filter(lambda value: not isinstance(value, dict)), min_size=1, max_size=3),
    st.integers(101, 300).map(lambda count: [{"sku": "TEE", "quantity": 1}] * count),
).map(lambda value: with_value(("lines",), value))
bad_object = st.sampled_from(["customer", "payment", "shipping_address"]).flatmap(
    lambda key: json_values.filter(lambda value: not isinstance(value, dict)).map(
        lambda value: with_value((key,), value)
    )
)
missing_field = st.sampled_from(
    [
        ("customer",),
        ("lines",),
        ("payment",),
        ("shipping_address",),
        ("lines", 0, "sku"),
        ("lines", 0, "quantity"),
        ("payment", "method"),
        ("payment", "token"),
        ("customer", "cpf"),
        *sorted(STRING_LIMITS),
    ]
).map(without)
not_an_object = json_values.filter(lambda value: not isinstance(value, dict))
huge = st.sampled_from([MEGABYTE + 1, MEGABYTE - 4096]).map(
    lambda size: with_value(("customer", "name"), "x" * size)
)

json_bodies = st.one_of(
    bad_string_field,
    bad_email,
    bad_cpf,
    bad_quantity,
    bad_sku,
    bad_method,
    bad_lines,
    bad_object,
    missing_field,
    not_an_object,
    huge,
).map(lambda body: json.dumps(body).encode())
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.just(b"[" * 50_000),
    st.just(b'{"customer": ' * 50_000),
    st.just(b'{"lines": [{"sku": "TEE", "quantity": 1' + b"0" * 5000 + b"}]}"),
    st.just(json.dumps(VALID).encode()[:-7]),
    st.just(b"\xff\xfe\x00{"),
    st.just(json.dumps(VALID).replace('"quantity": 1', '"quantity": NaN').encode()),
)
requests = st.one_of(
    st.tuples(st.one_of(json_bodies, raw_bodies), st.just("application/json")),
    st.tuples(json_bodies, st.sampled_from(["text/plain", "application/x-www-form-urlencoded"])),
)


@pytest.mark.django_db
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(request=requests)
def test_every_malformed_body_is_a_4xx_problem_and_writes_nothing(web, stocked_sku, request):
    if not StockItem.objects.filter(sku="TEE").exists():
        stocked_sku("TEE", on_hand=100_000)
    body, content_type = request

    response = web.generic(
        "POST",
        "/api/v1/orders/",
        body,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code in (400, 413, 415, 422), (
        response.status_code,
        response.content[:300],
    )
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"]
    assert not Order.objects.exists()
    assert not Customer.objects.exists()
    assert not Reservation.objects.exists()
    assert not StockMove.objects.exclude(reason="receive").exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"customer": ' * 50_000, b"\xff\xfe\x00{"])
def test_bodies_that_are_not_json_are_400_malformed_json(web, body):
    response = web.generic(
        "POST", "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "malformed_json"
    assert not Order.objects.exists()
