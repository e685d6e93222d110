"""Every ``/webhooks/`` route (partners and the PSP call these; no other auth than signatures)."""

urlpatterns: list = []
