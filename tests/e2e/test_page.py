"""The questionnaire page in Chromium against the real local stack (gateway, Lambda handler, endpoint)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from mysfits.local.gateway.app import Gateway
from mysfits.local.gateway.static import StaticSite
from mysfits.local.gateway.template import ApiDefinition
from mysfits.local.http_server import BackgroundServer
from mysfits_api.catalog import load_catalog
from tests.e2e.conftest import REPO, SCREENSHOTS, free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ANSWERS = [3, 2, 2, 5, 6]


def answer(page: Page, answers: list[int | None]) -> None:
    for index, value in enumerate(answers):
        if value is not None:
            page.locator(f"#q{index}-o{value}").check()


def expected_mysfit(api_url: str, answers: list[int]) -> dict:
    response = httpx.post(f"{api_url}/recommendations", json={"entry": answers}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["mysfit"]


def static_site(tmp_path: Path, config: dict) -> BackgroundServer:
    """The page alone, from another origin, with its own config.json: a real HTTP server, no API routes."""
    web = tmp_path / "web"
    web.mkdir(parents=True)
    for source in (REPO / "web").iterdir():
        (web / source.name).write_bytes(source.read_bytes())
    (web / "config.json").write_text(json.dumps(config))
    no_routes = ApiDefinition(routes=(), functions={}, parameters={}, template_path=REPO / "template.yaml")
    return BackgroundServer(Gateway(no_routes, {}, StaticSite(web)))


def test_happy_path_to_a_mysfit_card(page: Page, stack):
    page.goto(stack.url)
    expect(page.locator(".question")).to_have_count(5)
    expect(page.locator("legend").first).to_contain_text("How old does your soul feel?")
    answer(page, ANSWERS)
    page.get_by_role("button", name="Find my Mysfit").click()
    card = page.locator(".card")
    expect(card).to_be_visible()
    mysfit = expected_mysfit(stack.url, ANSWERS)
    expect(page.locator("#mysfit-name")).to_have_text(mysfit["name"])
    expect(page.locator("#mysfit-species")).to_have_text(mysfit["species"])
    expect(page.locator("#mysfit-description")).to_have_text(mysfit["description"])
    expect(page.locator("#mysfit-age")).to_have_text(re.compile(r"^\d[\d,.]* (thousand |million |billion )?years?$"))
    expect(page.locator("#mysfit-alignment")).not_to_be_empty()
    expect(card.locator("svg[role=img]")).to_have_attribute("aria-label", re.compile(mysfit["name"]))
    assert page.locator("#result").get_attribute("data-mysfit-id") == mysfit["id"]
    expect(page.locator("#result-heading")).to_be_focused()


def test_keyboard_only(page: Page, stack):
    page.goto(stack.url)
    expect(page.locator(".question")).to_have_count(5)
    page.keyboard.press("Tab")  # skip link
    expect(page.locator(".skip-link")).to_be_focused()
    for index in range(5):
        page.keyboard.press("Tab")  # into the next radio group
        page.keyboard.press("ArrowDown")  # arrow keys move and select within a group
        expect(page.locator(f"#q{index}-o2")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#mysfit-name")).to_have_text(expected_mysfit(stack.url, [2] * 5)["name"])


def test_unanswered_questions_are_flagged_and_nothing_is_sent(page: Page, stack):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(stack.url)
    answer(page, [4, None, 4, None, None])
    page.get_by_role("button", name="Find my Mysfit").click()
    errors = page.locator(".field-error:visible")
    expect(errors).to_have_count(3)
    expect(page.locator("#form-summary")).to_have_text("3 questions still need an answer.")
    for index in (1, 3, 4):
        first = page.locator(f"#q{index}-o1")
        expect(first).to_have_attribute("aria-invalid", "true")
        expect(first).to_have_attribute("aria-describedby", f"q{index}-error")
        expect(page.locator(f"#q{index}-error")).to_have_text("Please choose one answer.")
    expect(page.locator("#q0-o1")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#q1-o1")).to_be_focused()
    page.locator("#q1-o6").check()
    expect(page.locator("#q1-error")).to_be_hidden()
    expect(page.locator("#q1-o1")).not_to_have_attribute("aria-invalid", "true")
    assert posts == []


def test_a_4xx_shows_the_api_message(page: Page, stack):
    # The page never sends a bad entry itself, so change the body on the way out; the real API answers.
    page.route(
        "**/recommendations",
        lambda route: route.continue_(post_data=json.dumps({"entry": [1, 2, 3, 4, 9]})),
    )
    page.goto(stack.url)
    answer(page, ANSWERS)
    page.get_by_role("button", name="Find my Mysfit").click()
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("couldn't use that request")
    expect(problem).to_contain_text("entry[4]: expected an integer from 1 to 8, got 9")
    expect(page.get_by_role("button", name="Try again")).to_be_focused()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "desktop-error-4xx.png")
    page.unroute("**/recommendations")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#mysfit-name")).to_have_text(expected_mysfit(stack.url, ANSWERS)["name"])


def test_endpoint_down_shows_a_server_error_and_retry_recovers(page: Page, stack, tmp_path):
    endpoint_port, api_port = free_port(), free_port()
    endpoint_args = ["endpoint", "--model", str(stack.model), "--port", str(endpoint_port), "--quiet"]
    api_args = ["serve", "--endpoint-url", f"http://127.0.0.1:{endpoint_port}", "--port", str(api_port), "--quiet"]
    with running(api_args, tmp_path / "api.log", api_port):
        page.goto(f"http://127.0.0.1:{api_port}")
        answer(page, ANSWERS)
        page.get_by_role("button", name="Find my Mysfit").click()
        problem = page.get_by_role("alert")
        expect(problem).to_contain_text("ran into a problem")
        expect(problem).to_contain_text(re.compile(r"error 5\d\d"))
        with running(endpoint_args, tmp_path / "endpoint.log", endpoint_port, "/ping"):
            page.get_by_role("button", name="Try again").click()
            expect(page.locator("#mysfit-name")).to_have_text(expected_mysfit(stack.url, ANSWERS)["name"])


def test_network_down_and_timeout_are_told_apart(page: Page, tmp_path):
    closed_port = free_port()  # nothing listens here
    with static_site(tmp_path / "down", {"apiBaseUrl": f"http://127.0.0.1:{closed_port}"}) as site:
        page.goto(site.url)
        expect(page.get_by_role("alert")).to_contain_text("couldn't reach the Mysfits service")
    # A listening socket nobody accepts from: the kernel completes the handshake, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = {"apiBaseUrl": f"http://127.0.0.1:{silent.getsockname()[1]}", "requestTimeoutMs": 1500}
        with static_site(tmp_path / "slow", config) as site:
            page.goto(site.url)
            expect(page.get_by_role("alert")).to_contain_text("taking too long")
            expect(page.get_by_role("alert")).to_contain_text("within 2 seconds")


def test_cross_origin_page_and_api(page: Page, stack, tmp_path):
    api_port = free_port()
    with static_site(tmp_path / "site", {"apiBaseUrl": f"http://127.0.0.1:{api_port}"}) as site:
        endpoint = f"http://127.0.0.1:{stack.endpoint_port}"
        allowed = ["--parameter-overrides", f"AllowedOrigin={site.url}"]
        log = tmp_path / "api.log"
        with running(["serve", "--endpoint-url", endpoint, "--port", str(api_port), *allowed], log, api_port, "/"):
            page.goto(site.url)
            answer(page, ANSWERS)
            with page.expect_response(f"http://127.0.0.1:{api_port}/recommendations") as posted:
                page.get_by_role("button", name="Find my Mysfit").click()
            assert posted.value.status == 200
            assert posted.value.headers["access-control-allow-origin"] == site.url
            expect(page.locator("#mysfit-name")).to_have_text(expected_mysfit(stack.url, ANSWERS)["name"])
        assert "OPTIONS /recommendations 200" in log.read_text()  # the browser's preflight reached the gateway


def test_cross_origin_is_refused_for_another_origin(page: Page, stack, tmp_path):
    api_port = free_port()
    with static_site(tmp_path / "site", {"apiBaseUrl": f"http://127.0.0.1:{api_port}"}) as site:
        endpoint = f"http://127.0.0.1:{stack.endpoint_port}"
        other = ["--parameter-overrides", "AllowedOrigin=https://elsewhere.example"]
        with running(
            ["serve", "--endpoint-url", endpoint, "--port", str(api_port), *other], tmp_path / "a.log", api_port
        ):
            page.goto(site.url)
            # The browser hides the answer from a page the API does not allow: the visitor sees "unreachable".
            expect(page.get_by_role("alert")).to_contain_text("couldn't reach the Mysfits service")


def assert_laid_out(page: Page, width: int) -> None:
    """Nothing sticks out sideways, and every question's options sit below its text, inside its box."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for question in page.locator(".question:visible").all():
        box = question.bounding_box()
        legend = question.locator("legend").bounding_box()
        for option in question.locator(".option").all():
            inner = option.bounding_box()
            assert inner["y"] >= legend["y"] + legend["height"], "an option sits beside the question text"
            assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"]


@pytest.mark.parametrize(("device", "viewport"), [("phone", (390, 844)), ("desktop", (1280, 900))])
def test_screenshots(browser, stack, device, viewport):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1)
    page = context.new_page()
    try:
        page.goto(stack.url)
        expect(page.locator(".question")).to_have_count(5)
        page.screenshot(path=SCREENSHOTS / f"{device}-questionnaire.png", full_page=True)
        assert_laid_out(page, viewport[0])
        answer(page, [1, None, None, 7, None])
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator(".field-error:visible")).to_have_count(3)
        page.screenshot(path=SCREENSHOTS / f"{device}-validation.png", full_page=True)
        assert_laid_out(page, viewport[0])
        answer(page, ANSWERS)
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator(".card")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"{device}-result.png", full_page=True)
        assert_laid_out(page, viewport[0])
    finally:
        context.close()


def test_every_species_has_its_own_avatar(page: Page, stack):
    page.goto(stack.url)
    expect(page.locator(".question")).to_have_count(5)
    drawn = page.evaluate("window.MysfitAvatars.species")
    assert sorted(drawn) == sorted({m.species for m in load_catalog()})
