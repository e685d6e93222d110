"""Payments context.

Payment attempts, the PSP client, PSP webhooks and refunds. It does not change orders
directly; orders react to its events.
"""
