"""Strict JSON input fields: a number is never a string or a boolean, text is valid Unicode."""

from typing import Any

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")  # lone surrogates are legal JSON but not storable
        except UnicodeEncodeError:
            self.fail("invalid")
        if "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)
