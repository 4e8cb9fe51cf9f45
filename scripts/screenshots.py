#!/usr/bin/env python3
"""Draw the README's and docs/page.md's pictures of the page (docs/screenshots/*.png): `make screenshots`.

The browser tests never write into the checkout; this command is the one thing that does. It runs the same stack as
`make run` (`mysfits serve`, with a model trained on freshly generated answers) in a temporary folder, drives
Debian's chromium with Playwright, and overwrites the pictures. The error picture is a real page showing the answer
the API gives when its model is unreachable (a 503, fulfilled on the way in), so it needs no broken stack.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ANSWERS = [3, 2, 2, 5, 6]
WIDTHS = ((390, 844), (1280, 800))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"mysfits serve exited with {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise SystemExit(f"nothing answered on port {port} within {timeout:.0f} s")


def _mysfits(*args: str) -> list[str]:
    return [sys.executable, "-m", "mysfits", *args]


def draw(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for width, height in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                page.goto(url)
                expect(page.locator(".question")).to_have_count(5)
                page.locator(f"label[for=q0-o{ANSWERS[0]}]").click()  # one answer given: the page moves on by itself
                expect(page.locator("#q1-o1")).to_be_visible()
                page.evaluate("window.scrollTo(0, 0)")
                page.mouse.move(0, 0)
                written.append(out / f"questions-{width}.png")
                page.screenshot(path=written[-1])

                page.route(
                    "**/recommendations",
                    lambda route: route.fulfill(status=503, json={"message": "The model endpoint is unavailable"}),
                )
                for index, value in enumerate(ANSWERS):
                    page.locator(f"#step-{index}").click()
                    page.locator(f"#q{index}-o{value}").check()
                page.locator("#submit").click()
                expect(page.get_by_role("alert")).to_be_visible()
                written.append(out / f"error-{width}.png")
                page.screenshot(path=written[-1])
                page.unroute("**/recommendations")

                page.locator("#submit").click()
                expect(page.locator("#result-heading")).to_be_focused()
                page.mouse.move(0, 0)
                written.append(out / f"result-{width}.png")
                page.screenshot(path=written[-1], full_page=True)
                page.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="screenshots.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the pictures go (default: {OUT})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "answers.csv"
        subprocess.run(_mysfits("data", "generate", "--rows", "20000", "--out", str(data)), env=env, check=True)  # noqa: S603
        port = _free_port()
        serve = [
            *_mysfits("serve", "--model", str(work / "model.json"), "--data", str(data)),
            *("--port", str(port), "--endpoint-port", str(_free_port())),
            *("--choices", str(work / "choices.sqlite3"), "--quiet"),
        ]
        with (work / "serve.log").open("wb") as log:
            process = subprocess.Popen(serve, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            _wait_for(port, process)
            for path in draw(f"http://127.0.0.1:{port}", args.out):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        finally:
            process.terminate()
            process.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
