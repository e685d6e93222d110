"""The legacy monolith's HTML, 2009 style."""

from __future__ import annotations

from html import escape

from sandbox.legacy.store import DEMO_USER


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)} - Legacy Store</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}<hr><small>legacy monolith</small></body></html>"
    ).encode()


def home(user: str | None) -> bytes:
    if user is None:
        return _page("Legacy Store", "<p>Welcome, guest. <a href='/legacy/login'>Log in</a></p>")
    return _page(
        "Legacy Store",
        f"<p>Welcome back, {escape(user)}. <a href='/legacy/account'>Your account</a></p>",
    )


def login_form(error: str | None) -> bytes:
    problem = f"<p class='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Log in",
        f"{problem}<form method='post' action='/legacy/login'>"
        f"<input name='username' placeholder='{DEMO_USER[0]}'>"
        "<input name='password' type='password'><button>Log in</button></form>",
    )


def account(user: str) -> bytes:
    return _page(
        "Your account",
        f"<p>Logged in as <b id='user'>{escape(user)}</b>.</p>"
        "<form method='post' action='/legacy/logout'><button>Log out</button></form>",
    )


def not_found(path: str) -> bytes:
    return _page("Not found", f"<p>Nothing at {escape(path)}.</p>")


def failure(status: int) -> bytes:
    return _page(f"Error {status}", "<p>The legacy system failed, as asked.</p>")
