"""Inventory context.

Stock per SKU: on hand, reserved, reservations with expiry and the stock moves that
explain every change. It does not own prices or orders. Stock rows also keep a history
(issue 8) written by ``services._apply`` next to the moves, since their counters change by SQL
that simple_history does not see.
"""
