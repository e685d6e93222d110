import pytest

from strangler.route_cache import route_cache


@pytest.fixture(autouse=True)
def _fresh_route_cache():
    """Each test starts from what its database says, not from a previous test's table."""
    route_cache.invalidate()
    yield
    route_cache.invalidate()
