"""Every ``/api/v1/`` route, one include per context that exposes an API."""

urlpatterns: list = []
