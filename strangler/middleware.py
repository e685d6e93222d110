"""The strangler layer's entry point in the middleware stack."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SERVED_BY_HEADER = "X-Served-By"


class ServedByMiddleware:
    """Every response says who served it; what reaches this stack is served by Rastro."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if SERVED_BY_HEADER not in response:
            response[SERVED_BY_HEADER] = "new"
        return response
