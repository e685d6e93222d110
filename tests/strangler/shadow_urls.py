"""Rastro's URLs plus stand-in new-side views for the shadow tests."""

import time

from django.http import HttpResponse, JsonResponse
from django.urls import path

from config.urls import urlpatterns as rastro_urlpatterns

calls: list[tuple[str, str]] = []  # (method, path) of every new-side call


def products(request):
    """Legacy's first page, as the new side would render it (its own timestamps)."""
    calls.append((request.method, request.path))
    bump = int(request.GET.get("bump", 0))
    results = [
        {
            "sku": f"LEG-{n:04d}",
            "name": f"Legacy product {n}",
            "price": 990 + 100 * n + (bump if n == 1 else 0),
            "currency": "BRL",
            "available": 10_000,
            "updated_at": "2030-01-01T00:00:00Z",
        }
        for n in range(1, 21)
    ]
    return JsonResponse({"results": results, "next": None})


def slow_home(request):
    calls.append((request.method, request.path))
    time.sleep(1.0)
    return HttpResponse("<p>the new home page</p>")


def echo(request):
    calls.append((request.method, request.path))
    return JsonResponse({"method": request.method})


urlpatterns = [
    path("api/v1/products/", products),
    path("legacy/", slow_home),
    path("legacy/echo", echo),
    *rastro_urlpatterns,
]
