"""Customers context.

Customers: name, e-mail and CPF, stored pseudonymised (keyed HMAC for lookups,
encrypted for display, every reveal logged). It does not own orders or AML cases.
"""
