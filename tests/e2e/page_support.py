"""What the page tests share: a page of a given size, answering, axe-core, colour contrast, a static copy of the page.

axe-core comes from the ``axe-playwright-python`` package on PyPI (a dev dependency), which ships
axe-core's own build; the test injects that file into the page, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from mysfits.local.gateway.app import Gateway
from mysfits.local.gateway.static import StaticSite
from mysfits.local.gateway.template import ApiDefinition
from mysfits.local.http_server import BackgroundServer
from mysfits_api.catalog import load_catalog
from mysfits_api.questionnaire import N_QUESTIONS
from tests.e2e.conftest import REPO

ANSWERS = [3, 2, 2, 5, 6]
NAMES = {m.id: m.name for m in load_catalog()}


@contextlib.contextmanager
def sized_page(browser: Browser, width: int, height: int, **options) -> Iterator[Page]:
    """A page in a browser context of its own, ``width`` x ``height``, closed with everything it opened."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def show_question(page: Page, index: int) -> None:
    """Bring question ``index`` on screen as a pointer does: its step in the bar above the questions."""
    page.locator(f"#step-{index}").click()
    expect(page.locator(f"#q{index}-o1")).to_be_visible()


def answer(page: Page, answers: list[int | None]) -> None:
    """Give each answer that is not None, going to its question first (one question is on screen at a time)."""
    for index, value in enumerate(answers):
        if value is not None:
            show_question(page, index)
            page.locator(f"#q{index}-o{value}").check()


def open_questions(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(".question")).to_have_count(N_QUESTIONS)


def expect_answers_kept(page: Page, answers: list[int]) -> None:
    """Every answer still checked, and on screen on its question, so the visitor can see and change them."""
    for index, value in enumerate(answers):
        show_question(page, index)
        radio = page.locator(f"#q{index}-o{value}")
        expect(radio).to_be_checked()
        expect(page.locator(f"label[for=q{index}-o{value}]")).to_be_visible()


def recommendation(api_url: str, answers: list[int]) -> dict:
    """The API's own answer, asked directly, to compare the page with."""
    response = httpx.post(f"{api_url}/recommendations", json={"entry": answers}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def static_site(tmp_path: Path, config: dict) -> BackgroundServer:
    """The page alone, from another origin, with its own config.json: a real HTTP server, no API routes."""
    web = tmp_path / "web"
    shutil.copytree(REPO / "web", web)
    (web / "config.json").write_text(json.dumps(config))
    no_routes = ApiDefinition(routes=(), functions={}, parameters={}, template_path=REPO / "template.yaml")
    return BackgroundServer(Gateway(no_routes, {}, StaticSite(web)))


@cache
def _axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


def assert_no_axe_violations(page: Page, state: str) -> None:
    """Run every axe-core rule that applies by default on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=_axe_source())
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']]}"
        for v in results["violations"]
    ]
    assert found == [], f"axe-core found violations in the {state} state:\n" + "\n".join(found)


_RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def parse_colour(css: str) -> tuple[float, float, float, float]:
    match = _RGB.fullmatch(css.strip())
    assert match, f"not an rgb() colour: {css!r}"
    r, g, b, a = match.groups()
    return float(r), float(g), float(b), float(a) if a is not None else 1.0


def luminance(colour: tuple[float, ...]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(parse_colour(a)), luminance(parse_colour(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# The ring around whatever has focus, and the colour it is drawn on: the element's own background
# when the outline is inset (negative offset), else the nearest painted background behind it.
FOCUS_RING = """() => {
  const focused = document.activeElement;
  if (!focused || focused === document.body) return null;
  const style = (e) => getComputedStyle(e);
  let ring = focused;
  while (ring && (style(ring).outlineStyle === "none" || parseFloat(style(ring).outlineWidth) === 0)) {
    ring = ring.parentElement;
  }
  if (!ring) return { element: focused.id || focused.tagName, ring: null };
  const painted = (e) => {
    for (; e; e = e.parentElement) {
      const c = style(e).backgroundColor;
      if (c !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(c)) return c;
    }
    return style(document.documentElement).backgroundColor;
  };
  const inset = parseFloat(style(ring).outlineOffset) < 0;
  return {
    element: focused.id || focused.className || focused.tagName,
    ring: style(ring).outlineColor,
    width: parseFloat(style(ring).outlineWidth),
    background: painted(inset ? ring : ring.parentElement),
  };
}"""
