"""Ledger context.

The double-entry ledger: accounts, journal entries and postings, balances and
reconciliation. Fed only by events; it never reads other contexts' tables.
"""
