"""CPF validation (pure): both spellings, check digits, everything else refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.customers.domain import InvalidCpf, cpf_mask, cpf_normalize

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
    lambda digits: len(set(digits)) > 1
)


def reference_check_digit(digits: str) -> int:
    """The Receita Federal formulation, written independently of the code under test."""
    total = sum(
        int(digit) * weight
        for digit, weight in zip(digits, range(len(digits) + 1, 1, -1), strict=True)
    )
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def with_check_digits(nine: str) -> str:
    ten = nine + str(reference_check_digit(nine))
    return ten + str(reference_check_digit(ten))


def formatted(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def test_known_valid_cpf_in_both_spellings():
    assert cpf_normalize("12345678909") == "12345678909"
    assert cpf_normalize("123.456.789-09") == "12345678909"
    assert cpf_mask("12345678909") == "***.456.789-**"


@given(nine_digits)
def test_every_cpf_with_right_check_digits_is_accepted_in_both_spellings(nine):
    digits = with_check_digits(nine)
    assert cpf_normalize(digits) == digits
    assert cpf_normalize(formatted(digits)) == digits


@given(nine_digits, st.integers(9, 10), st.integers(1, 9))
def test_a_wrong_check_digit_is_refused(nine, position, change):
    digits = with_check_digits(nine)
    wrong = digits[:position] + str((int(digits[position]) + change) % 10) + digits[position + 1 :]
    with pytest.raises(InvalidCpf):
        cpf_normalize(wrong)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_any_eleven_digits_are_accepted_exactly_when_the_reference_says_valid(digits):
    valid = len(set(digits)) > 1 and with_check_digits(digits[:9]) == digits
    if valid:
        assert cpf_normalize(digits) == digits
    else:
        with pytest.raises(InvalidCpf):
            cpf_normalize(digits)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1234567890",
        "123456789091",
        "123.456.789-0",
        "123.456.78909",
        "123-456-789.09",
        " 12345678909",
        "12345678909 ",
        "\uff11" * 11,
        "11111111111",
        "000.000.000-00",
        "12345678900",
        None,
        12345678909,
        ["12345678909"],
        "123.456.789-09\n",
    ],
)
def test_malformed_or_wrong_cpfs_are_refused(raw):
    with pytest.raises(InvalidCpf):
        cpf_normalize(raw)
