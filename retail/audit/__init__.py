"""Audit context.

The hash-chained, append-only audit log, order traces and history browsing for
auditors. It records what others did; it changes nothing else.
"""
