"""Money as an integer number of centavos. Floats are refused, never rounded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class Money:
    centavos: int
    currency: str = "BRL"

    def __post_init__(self) -> None:
        if type(self.centavos) is not int:  # bool and float are refused on purpose
            raise TypeError(f"Money needs integer centavos, got {type(self.centavos).__name__}")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.centavos + other.centavos, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.centavos - other.centavos, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if type(quantity) is not int:
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(self.centavos * quantity, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.centavos, self.currency)

    @classmethod
    def zero(cls, currency: str = "BRL") -> Money:
        return cls(0, currency)

    @classmethod
    def sum(cls, amounts: list[Money], currency: str = "BRL") -> Money:
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    def __str__(self) -> str:
        sign = "-" if self.centavos < 0 else ""
        reais, centavos = divmod(abs(self.centavos), 100)
        return f"{sign}{self.currency} {reais}.{centavos:02d}"
