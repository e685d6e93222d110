import pytest

from retail.platform import relay


@pytest.fixture(autouse=True)
def ledger_consumers_only(monkeypatch):
    """The relay applies only the ledger's consumers: other contexts' handlers (orders, audit…)
    would look for orders these tests never create and hold the events back."""
    real = relay.consumers_of
    monkeypatch.setattr(
        relay,
        "consumers_of",
        lambda event_type: [c for c in real(event_type) if c.name.startswith("ledger.")],
    )
