"""Fulfillment context.

Shipments, created when an order is paid and marked shipped/delivered by staff.
It does not own stock or payments.
"""
