"""CORS headers on every response, not only those to browsers that sent ``Origin``.

Powertools grants CORS only when the request carries a matching ``Origin`` header, which
is correct for browsers. But clients and caches that never send ``Origin`` (curl, the
original Mysfits site's proxies, a CDN in front of the API) should still see which origin
the API serves, and the API contract promises the header on every response, errors
included. Sending the configured origin to a non-matching caller grants it nothing: the
browser compares the value with its own origin and blocks the read.
"""

from __future__ import annotations

ALLOW_ORIGIN = "Access-Control-Allow-Origin"


def ensure_cors_headers(response: dict, allowed_origin: str) -> dict:
    """Add ``Access-Control-Allow-Origin: <allowed_origin>`` (and ``Vary: Origin``) where Powertools did not."""
    headers = response.setdefault("multiValueHeaders", {})
    if not any(name.lower() == ALLOW_ORIGIN.lower() for name in headers):
        headers[ALLOW_ORIGIN] = [allowed_origin]
    if allowed_origin != "*" and not any(name.lower() == "vary" for name in headers):
        # The header's value depends on the request's Origin; shared caches must not mix answers.
        headers["Vary"] = ["Origin"]
    return response
