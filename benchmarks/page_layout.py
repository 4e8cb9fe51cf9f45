"""The questionnaire's layout, before and after issue 31's third pass (one question per screen): how far a visitor
scrolls to answer all five questions, how tall the tallest screen is, and how often the "N of 5 answered" count is
on screen when an answer is given.

Both pages are served by a plain static server (the API is not needed to answer questions) and driven by Playwright
in Debian's chromium. "Before" is the page at BASELINE (the last commit before the third pass), taken from git.
The time to answer is an automated figure (no reading): it shows what the page itself adds, such as the pause
before a chosen answer moves on.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "ddf06bd"
VIEWPORTS = ((390, 844), (1280, 800))
CHROMIUM = "/usr/bin/chromium"


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _measure(browser, url: str, width: int, height: int) -> tuple[int, int, int, float]:
    """Scrolled while answering (px), the tallest screen's overflow (px), answers given with the count in view, ms."""
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url)
        page.wait_for_selector(".question")
        started = time.perf_counter()
        scrolled = overflow = in_view = 0
        for index in range(5):
            option = page.locator(f"#q{index}-o4")
            option.wait_for(state="visible")  # one question per screen: the page moves on by itself
            overflow = max(overflow, page.evaluate("document.documentElement.scrollHeight - innerHeight"))
            before = page.evaluate("scrollY")
            option.scroll_into_view_if_needed()
            scrolled += abs(page.evaluate("scrollY") - before)
            option.check()
            box = page.locator("#progress").bounding_box()
            in_view += 0 <= box["y"] and box["y"] + box["height"] <= height
        button = page.get_by_role("button", name="Find my Mysfit")
        button.wait_for(state="visible")
        before = page.evaluate("scrollY")
        button.scroll_into_view_if_needed()
        scrolled += abs(page.evaluate("scrollY") - before)
        elapsed_ms = 1000 * (time.perf_counter() - started)
        return round(scrolled), overflow, in_view, elapsed_ms
    finally:
        page.close()


def run() -> str:
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        git = ["git", "-C", str(ROOT), "archive", BASELINE, "web"]
        archive = subprocess.run(git, capture_output=True, check=True)  # noqa: S603 - fixed argv, git on PATH
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)  # noqa: S603, S607 - fixed argv
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        servers = {name: _serve(path) for name, path in (("before", Path(tmp) / "web"), ("after", ROOT / "web"))}
        try:
            for width, height in VIEWPORTS:
                for name, (_, url) in servers.items():
                    scrolled, overflow, in_view, elapsed = _measure(browser, url, width, height)
                    rows.append(
                        f"| {width}×{height} | {name} | {scrolled:,} | {overflow:,} | {in_view} of 5 | {elapsed:.0f} |"
                    )
        finally:
            for server, _ in servers.values():
                server.shutdown()
            browser.close()
    return "\n".join(
        [
            "## The questionnaire's layout (`benchmarks/page_layout.py`)",
            "",
            f"Before: the page at {BASELINE} (all five questions on one page); after: this checkout's `web/` (one "
            "question per screen). Scrolled is how far the page moved while answering each question (option 4) and "
            "reaching the button; overflow is how much taller than the window the tallest screen is.",
            "",
            "| window | page | scrolled, px | overflow, px | count in view when answering | time to answer, ms "
            "(automated) |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
