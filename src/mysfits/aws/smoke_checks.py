"""What the smoke run checks once the API and the page are up: it asks them over HTTP, as a visitor's browser would.

Nothing here knows about AWS. The API and the page are URLs; offline, the tests point them at the local gateway
(the real handler) and at a server that hands out the website bucket's objects, and the same code runs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mysfits.aws.smoke_report import Check

GOOD_ENTRY = [3, 1, 4, 1, 5]
BAD_ENTRY = [9, 1, 1, 1, 1]  # entry[0] is outside 1..8
REQUEST_TIMEOUT_S = 35.0  # above API Gateway's 29 s, so a gateway timeout is seen as its 504 and not as ours


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None


def fetch(
    method: str,
    url: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Response:
    """One HTTP request; a 4xx or 5xx is a response to look at, not an exception (a refused connection still is)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - http(s) only
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError(f"not an http(s) URL: {url}")
    started = clock()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as answer:  # noqa: S310 - scheme checked
            status, raw_headers, payload = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, raw_headers, payload = error.code, error.headers, error.read()
    return Response(status, {k.lower(): v for k, v in raw_headers.items()}, payload, clock() - started)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: a value that was really measured, not an interpolation between two."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_choice(api_url: str, answer: object, asked_from: dict[str, str]) -> Check:
    """The data loop end to end: the recommendation was kept, it can be adopted once, and a second adoption is 409."""
    rec_id = answer.get("recommendationId") if isinstance(answer, dict) else None
    if not isinstance(rec_id, str):
        return Check("choice round trip", False, "POST /recommendations returned no recommendationId: the function "
                     "could not keep it (is the choices table there, and may the function write it?)")  # fmt: skip
    url = api_url.rstrip("/") + "/choices"
    body = {"recommendationId": rec_id, "mysfitId": answer.get("recommendedMysfit")}
    first, again = fetch("POST", url, body, asked_from), fetch("POST", url, body, asked_from)
    adopted = first.json()
    ok = first.status == 201 and isinstance(adopted, dict) and isinstance(adopted.get("choiceId"), str)
    return Check(
        "choice round trip",
        ok and again.status == 409,
        f"POST /choices -> {first.status}{' with a choiceId' if ok else ''}, the same choice again -> {again.status}",
    )


def check_api(
    api_url: str, site_origin: str, mysfit_ids: set[str], *, calls: int, cold_limit_s: float
) -> tuple[list[Check], dict[str, float]]:
    """The seed's contract, a 4xx for bad input, CORS for the page's origin, the cold start, then p50/p95."""
    url = api_url.rstrip("/") + "/recommendations"
    asked_from = {"Origin": site_origin}
    checks: list[Check] = []

    first = fetch("POST", url, {"entry": GOOD_ENTRY}, asked_from)
    answer = first.json()
    recommended = answer.get("recommendedMysfit") if isinstance(answer, dict) else None
    checks.append(
        Check(
            "contract",
            first.status == 200 and recommended in mysfit_ids,
            f"POST /recommendations {GOOD_ENTRY} -> {first.status}, recommendedMysfit {recommended!r}"
            + ("" if recommended in mysfit_ids else " (not one of the twelve Mysfit ids)"),
        )
    )
    checks.append(
        Check(
            "cold start",
            first.status == 200 and first.seconds < cold_limit_s,
            f"first call after deployment took {first.seconds:.2f} s "
            f"(limit {cold_limit_s:.0f} s, the Lambda's timeout)",
        )
    )
    checks.append(check_choice(api_url, answer, asked_from))
    allowed = first.headers.get("access-control-allow-origin")
    checks.append(
        Check(
            "CORS on the answer", allowed == site_origin, f"Access-Control-Allow-Origin {allowed!r}, page {site_origin}"
        )
    )

    bad = fetch("POST", url, {"entry": BAD_ENTRY}, asked_from)
    error = bad.json()
    field_named = isinstance(error, dict) and error.get("field") == "entry[0]"
    checks.append(
        Check(
            "bad input",
            400 <= bad.status < 500 and field_named,
            f"POST {BAD_ENTRY} -> {bad.status}, field {error.get('field') if isinstance(error, dict) else None!r}",
        )
    )

    preflight = fetch(
        "OPTIONS",
        url,
        headers={
            **asked_from,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    granted = preflight.headers.get("access-control-allow-origin")
    methods = preflight.headers.get("access-control-allow-methods", "")
    checks.append(
        Check(
            "CORS preflight",
            200 <= preflight.status < 300 and granted == site_origin and "POST" in methods.upper(),
            f"OPTIONS -> {preflight.status}, allow-origin {granted!r}, allow-methods {methods!r}",
        )
    )

    timings, statuses = [], []
    for _ in range(calls):
        response = fetch("POST", url, {"entry": GOOD_ENTRY}, asked_from)
        timings.append(response.seconds * 1000)
        statuses.append(response.status)
    failures = sum(status != 200 for status in statuses)
    latency = {
        "cold_start_s": first.seconds,
        "calls": float(calls),
        "p50_ms": percentile(timings, 0.5),
        "p95_ms": percentile(timings, 0.95),
    }
    checks.append(
        Check(
            "latency",
            failures == 0,
            f"{calls} calls: p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, {failures} not 200",
        )
    )
    return checks, latency


def check_website(site_url: str, api_url: str, *, require_https: bool, browser: Callable | None) -> list[Check]:
    """The page over HTTPS, and a config.json that names the API; then, if a browser is at hand, the page in it."""
    checks = [
        Check(
            "HTTPS",
            urlsplit(site_url).scheme == "https" or not require_https,
            f"the page's URL is {site_url}" + ("" if require_https else " (HTTPS not required for this run)"),
        )
    ]
    page = fetch("GET", site_url)
    content_type = page.headers.get("content-type", "")
    checks.append(
        Check(
            "page",
            page.status == 200 and content_type.startswith("text/html"),
            f"GET / -> {page.status} {content_type}",
        )
    )
    config = fetch("GET", site_url.rstrip("/") + "/config.json").json()
    named = config.get("apiBaseUrl") if isinstance(config, dict) else None
    checks.append(Check("config.json", named == api_url, f"apiBaseUrl {named!r}, API {api_url}"))
    if browser is not None:
        checks.append(browser(site_url, api_url))
    return checks


SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def system_chromium() -> str | None:
    """A Chromium installed by the system's package manager, which Playwright can drive instead of its own download
    (``playwright install`` is an extra step most users have not taken)."""
    return os.environ.get("MYSFITS_CHROMIUM") or next(filter(None, map(shutil.which, SYSTEM_CHROMIUMS)), None)


def playwright_browser() -> Callable | None:
    """Chromium through Playwright when both are installed, else None (the plain HTTP checks above still run)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    executable = system_chromium()
    # Chromium's sandbox needs a non-root user; as root (containers, CI) it refuses to start without this flag.
    flags = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []

    def look(site_url: str, api_url: str) -> Check:
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=executable, args=flags)
                try:
                    page = chromium.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda exc: errors.append(str(exc)))
                    page.goto(site_url, wait_until="networkidle")
                    config = page.evaluate("fetch('config.json').then(r => r.json())")
                finally:
                    chromium.close()
        except Error as exc:
            return Check("browser", True, f"Chromium could not run here ({str(exc).splitlines()[0]}); HTTP checks only")
        ok = not errors and isinstance(config, dict) and config.get("apiBaseUrl") == api_url
        return Check("browser", ok, f"Chromium loaded the page; script errors: {errors or 'none'}")

    return look
