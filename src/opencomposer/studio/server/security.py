"""The guard in front of every request: the token, the Host and Origin checks, and the size limit.

- With a token (required to listen beyond 127.0.0.1), every request must carry it: an
  ``Authorization: Bearer TOKEN`` header, or a ``?token=TOKEN`` query parameter, after which the
  studio sets a cookie so that the browser's later requests (and its EventSource) carry it too.
- Without a token the studio listens on a loopback address only, and answers only requests addressed
  to a loopback name: a web page cannot reach it by rebinding a domain name to 127.0.0.1.
- A request sent by a page of another origin (its Origin header names another host) is refused, so a
  web page cannot make the browser post forms or files to the studio. So is a request that changes
  anything (any method but GET, HEAD and OPTIONS) from the opaque origin ``null``, which a sandboxed
  iframe of any website sends.
- Every answer forbids framing (``X-Frame-Options: DENY``, CSP ``frame-ancestors 'none'``), so another
  site cannot lay the studio under its own page and click through it, and content sniffing.
- A body announced larger than `Settings.max_request_bytes` is refused before it is read; one that
  turns out larger while it is read is stopped by FastAPI's own limit.
"""

from __future__ import annotations

import hmac
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opencomposer.studio.settings import Settings, is_loopback

TOKEN_COOKIE = "opencomposer_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = (
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)


class Guard:
    """ASGI middleware applying the rules of this module to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.trusted_hosts = {name.lower() for name in settings.trusted_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        refusal = self._refusal(headers, query, scope.get("method", "GET"))
        send = _with_security_headers(send)
        if refusal is not None:
            status_code, sentence = refusal
            extra = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
            await JSONResponse({"detail": sentence}, status_code=status_code, headers=extra)(scope, receive, send)
            return
        token = self.settings.token
        if token is not None and _same(query.get("token"), token) and not _same(_cookie(headers), token):
            await self.app(scope, receive, _setting_cookie(send, token))
            return
        await self.app(scope, receive, send)

    def _refusal(self, headers: Headers, query: QueryParams, method: str) -> tuple[int, str] | None:
        token = self.settings.token
        host = headers.get("host", "")
        if token is not None:
            bearer = headers.get("authorization", "")
            given = [bearer[7:] if bearer.lower().startswith("bearer ") else None, query.get("token"), _cookie(headers)]
            if not any(_same(value, token) for value in given):
                return 401, (
                    "This studio needs its token: send the header 'Authorization: Bearer TOKEN', or open the page "
                    "once with ?token=TOKEN in its address."
                )
        elif not is_loopback(_hostname(host)) and _hostname(host).lower() not in self.trusted_hosts:
            return 403, (
                f"This studio answers requests addressed to 127.0.0.1 or localhost only, not to {host!r}; to reach "
                "it from elsewhere, start it with a token (--token) and a public --host."
            )
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower() == "null":
            if method.upper() not in SAFE_METHODS:
                return 403, (
                    "A page of no origin (a sandboxed frame, a local file) cannot change anything in this studio; "
                    "open the studio's own page instead."
                )
        elif origin and urlsplit(origin).netloc.lower() != host.lower():
            return 403, f"A page from {origin} cannot use this studio; open the studio's own page instead."
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.settings.max_request_bytes:
            megabytes = self.settings.max_request_bytes / 2**20
            return 413, f"The request is larger than {megabytes:g} MiB, the most the studio takes; send less at once."
        return None


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _hostname(host: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" gives "::1")."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(headers: Headers) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookies.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else None


def _with_security_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS:
                headers.setdefault(name, value)
        await send(message)

    return send_with_headers


def _setting_cookie(send: Send, token: str) -> Send:
    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).append(
                "set-cookie", f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            )
        await send(message)

    return send_with_cookie
