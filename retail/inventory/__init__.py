"""Inventory context.

Stock per SKU: on hand, reserved, reservations with expiry and the stock moves that
explain every change. It does not own prices or orders.
"""
