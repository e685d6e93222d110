"""Who a client is, for sticky canary decisions: ``X-Client-Id``, else our cookie, else the IP.

A client without either gets the cookie on its first canary decision, holding a keyed hash of
its IP: it keeps its bucket if its address changes, and clients that drop cookies still land
in the same bucket through their IP.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

CLIENT_HEADER = "HTTP_X_CLIENT_ID"
CLIENT_COOKIE = "strangler_client"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def client_key(request: HttpRequest) -> tuple[str, bool]:
    """The client's key, and whether the cookie must be set on the response."""
    header = request.META.get(CLIENT_HEADER, "").strip()
    if header:
        return header[:256], False
    cookie = request.COOKIES.get(CLIENT_COOKIE, "")
    if _WELL_FORMED.match(cookie):
        return cookie, False
    address = request.META.get("REMOTE_ADDR", "")
    return salted_hmac("strangler.canary.client", address).hexdigest()[:32], True


def client_cookie_set(response: HttpResponseBase, key: str) -> None:
    response.set_cookie(CLIENT_COOKIE, key, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="Lax")
