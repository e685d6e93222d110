"""CPF rules (pure): accepted spellings, check digits, masking for display."""

import re

_SPELLINGS = re.compile(r"(\d{11})|(\d{3})\.(\d{3})\.(\d{3})-(\d{2})")


class InvalidCpf(ValueError):
    pass


def _check_digit(digits: str) -> int:
    weight = len(digits) + 1
    remainder = sum(int(digit) * (weight - index) for index, digit in enumerate(digits)) * 10 % 11
    return 0 if remainder == 10 else remainder


def cpf_normalize(raw: object) -> str:
    """The 11 digits of a valid CPF given as ``12345678909`` or ``123.456.789-09``."""
    if not isinstance(raw, str):
        raise InvalidCpf("CPF must be a string")
    match = _SPELLINGS.fullmatch(raw)
    if match is None:
        raise InvalidCpf("CPF must be 11 digits or formatted as 123.456.789-09")
    digits = match.group(1) or "".join(match.groups()[1:])
    if len(set(digits)) == 1:
        raise InvalidCpf("CPF with all digits equal is not valid")
    if _check_digit(digits[:9]) != int(digits[9]) or _check_digit(digits[:10]) != int(digits[10]):
        raise InvalidCpf("CPF check digits do not match")
    return digits


def cpf_mask(digits: str) -> str:
    """Display form that hides what identifies the person: ``***.456.789-**``."""
    return f"***.{digits[3:6]}.{digits[6:9]}-**"
