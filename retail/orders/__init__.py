"""Orders context.

Checkout, the order state machine, cancellations and order history. It does not talk
to the PSP (payments) nor post money (ledger); it emits events they react to.
"""
