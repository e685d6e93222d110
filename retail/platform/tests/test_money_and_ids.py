import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.platform.ids import IdFactory, new_id
from retail.platform.money import Money

centavos = st.integers(min_value=-(10**12), max_value=10**12)


@given(centavos, centavos, centavos)
def test_money_addition_is_exact_and_associative(a, b, c):
    assert (Money(a) + Money(b)) + Money(c) == Money(a) + (Money(b) + Money(c)) == Money(a + b + c)


@given(centavos, st.integers(min_value=0, max_value=999))
def test_money_times_quantity_equals_repeated_addition(amount, quantity):
    assert Money(amount) * quantity == Money.sum([Money(amount)] * quantity)


@pytest.mark.parametrize("bad", [1.5, "100", True, None])
def test_money_refuses_anything_but_integer_centavos(bad):
    with pytest.raises(TypeError):
        Money(bad)


def test_money_refuses_to_mix_currencies():
    with pytest.raises(ValueError, match="BRL"):
        Money(100) + Money(100, "USD")


def test_money_prints_reais_and_centavos():
    assert str(Money(123456)) == "BRL 1234.56"
    assert str(Money(-5)) == "-BRL 0.05"


def test_ids_are_prefixed_unique_and_time_sortable():
    ids = [new_id("ord") for _ in range(2000)]
    assert all(re.fullmatch(r"ord_[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids[0][:14] <= ids[-1][:14]  # the millisecond timestamp leads


def test_id_factory_is_a_serialisable_field_default():
    factory = IdFactory("pay")
    assert factory().startswith("pay_")
    assert factory.deconstruct() == ("retail.platform.ids.IdFactory", ("pay",), {})
    assert factory == IdFactory("pay") != IdFactory("ref")
