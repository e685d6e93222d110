"""Strangler-fig routing layer.

The route table and its toggle history, the routing middleware, the proxy to the legacy
monolith, the circuit breaker and shadow comparison. Never imported by ``retail`` and
never imports it.
"""
