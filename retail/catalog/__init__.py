"""Catalog context.

Products, SKUs and prices (base price and per-channel overrides), in integer centavos.
It does not own stock (inventory) nor what was sold (orders).
"""
