"""The smoke run's browser check, in Debian's chromium through Playwright, against the real page.

The page is served as the website bucket would hold it after `--deploy-web`: web/ with a generated config.json that
names the API. Nothing else is needed: the page's questions come from its own content.json.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import pytest

from mysfits.aws import smoke_checks
from mysfits.aws.website import page_config
from mysfits.local.http_server import BackgroundServer

WEB = Path(__file__).resolve().parents[2] / "web"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"


class UploadedSite:
    """web/ as uploaded to the bucket: the committed files, with the generated config.json in place of its own."""

    def __init__(self, config: bytes):
        self.config = config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        key = scope["path"].lstrip("/") or "index.html"
        path = WEB / key
        if key == "config.json":
            status, body = 200, self.config
        elif path.is_file() and WEB in path.resolve().parents:
            status, body = 200, path.read_bytes()
        else:
            status, body = 404, b"not found"
        kind = (mimetypes.guess_type(key)[0] or "application/octet-stream").encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def browser_check():
    look = smoke_checks.playwright_browser()
    if look is None or smoke_checks.system_chromium() is None:
        pytest.skip("Playwright and a system Chromium are needed (make browser installs Debian's chromium)")
    return look


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_loads_the_uploaded_page_and_finds_the_api_in_its_config(browser_check):
    with BackgroundServer(UploadedSite(page_config(WEB, API_URL))) as site:
        check = browser_check(site.url, API_URL)
    assert check.ok, check.line
    assert check.line.startswith("Chromium loaded the page"), "the browser really ran, rather than being skipped"


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_sees_a_config_that_names_another_api(browser_check):
    other = json.dumps({"apiBaseUrl": "https://elsewhere.example/v1"}).encode()
    with BackgroundServer(UploadedSite(other)) as site:
        check = browser_check(site.url, API_URL)
    assert not check.ok and "Chromium loaded the page" in check.line
