"""Adopting a Mysfit from the page (issue 17): the result, the runner-up and the gallery each offer it, the choice
reaches the real store through the real API, and every failure keeps the visitor's choice or says why not."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Page, expect

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import load_catalog
from mysfits_api.questionnaire import N_QUESTIONS
from tests.e2e.page_support import ANSWERS, NAMES, answer, assert_no_axe_violations, recommendation, sized_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IDS = [m.id for m in load_catalog()]


def get_result(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(".question")).to_have_count(N_QUESTIONS)
    answer(page, ANSWERS)
    page.get_by_role("button", name="Find my Mysfit").click()
    expect(page.locator("#result-heading")).to_be_focused()


def shown_name(page: Page) -> str:
    """The recommended Mysfit's name, found from the id the result carries (the name is only in the heading)."""
    return NAMES[page.locator("#result").get_attribute("data-mysfit-id")]


def stored_choices(stack) -> dict[str, str]:
    """Recommendation id -> adopted Mysfit id, as the store has them."""
    store = SqliteChoiceStore(stack.choices, read_only=True)
    return {c.recommendation.recommendation_id: c.chosen_mysfit_id for c in store.choices()}


def test_adopting_the_recommended_mysfit_records_it_and_confirms(page: Page, stack):
    responses = []
    page.on("response", lambda r: r.url.endswith("/recommendations") and responses.append(r))
    get_result(page, stack.url)
    rec_id = responses[-1].json()["recommendationId"]
    name = shown_name(page)
    page.get_by_role("button", name=f"Adopt {name}", exact=True).click()
    adoption = page.locator("#adoption")
    expect(adoption).to_contain_text(f"You adopted {name}!")
    expect(adoption).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text(f"You adopted {name}!")
    button = page.locator("#adopt-main")
    expect(button).to_have_text(f"Adopted {name}")  # the button says it is done
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert stored_choices(stack)[rec_id] == page.locator("#result").get_attribute("data-mysfit-id")


def test_the_runner_up_and_the_gallery_can_be_adopted_instead(browser, stack):
    body = recommendation(stack.url, ANSWERS)
    runner_up = body["why"]["votes"][1]["mysfitId"]
    other = next(i for i in IDS if i not in (body["recommendedMysfit"], runner_up))
    for pick, how in ((runner_up, "runner-up"), (other, "gallery")):
        page = browser.new_page()
        responses = []
        page.on("response", lambda r, bucket=responses: r.url.endswith("/recommendations") and bucket.append(r))
        get_result(page, stack.url)
        rec_id = responses[-1].json()["recommendationId"]
        if how == "gallery":
            page.get_by_role("button", name="Meet all twelve").click()
            page.locator(f'.gallery-item[data-mysfit-id="{pick}"]').locator(".gallery-adopt").click()
        else:
            page.get_by_role("button", name=f"Adopt {NAMES[pick]} instead").click()
        expect(page.locator("#adoption")).to_contain_text(f"You adopted {NAMES[pick]}!")
        assert stored_choices(stack)[rec_id] == pick
        page.close()


def test_the_keyboard_alone_can_adopt(page: Page, stack):
    get_result(page, stack.url)
    name = shown_name(page)
    expect(page.locator("#adopt-main")).to_be_visible()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "adopt-main":
            break
    assert page.evaluate("document.activeElement.id") == "adopt-main"
    page.keyboard.press("Enter")
    expect(page.locator("#adoption")).to_contain_text(f"You adopted {name}!")


def test_a_second_adoption_is_reported_as_already_recorded(page: Page, stack):
    page.route("**/choices", lambda route: route.fulfill(status=409, json={"message": "already"}))
    get_result(page, stack.url)
    page.locator("#adopt-main").click()
    expect(page.locator("#adoption")).to_contain_text("already adopted for this result")
    expect(page.locator("#adopt-main")).to_be_disabled()


def test_an_expired_result_says_so(page: Page, stack):
    page.route("**/choices", lambda route: route.fulfill(status=404, json={"message": "no recommendation"}))
    get_result(page, stack.url)
    page.locator("#adopt-main").click()
    expect(page.locator("#adoption")).to_contain_text("more than a day old")


def test_a_busy_store_keeps_the_choice_waits_for_retry_after_then_records_it(page: Page, stack):
    refused = []

    def busy(route):
        refused.append(time.monotonic())
        route.fulfill(status=503, headers={"Retry-After": "2"}, json={"message": "retry shortly"})

    responses = []
    page.on("response", lambda r: r.url.endswith("/recommendations") and responses.append(r))
    page.route("**/choices", busy)
    get_result(page, stack.url)
    rec_id = responses[-1].json()["recommendationId"]
    name = shown_name(page)
    page.locator("#adopt-main").click()
    adoption, retry = page.locator("#adoption"), page.locator("#adopt-retry")
    expect(adoption).to_contain_text(f"We kept your choice of {name}")
    expect(adoption).to_contain_text("wait 2 seconds")
    expect(retry).to_be_disabled()
    expect(retry).to_be_enabled(timeout=5000)
    assert time.monotonic() - refused[0] >= 1.5  # the page waited as it was asked
    assert stored_choices(stack).get(rec_id) is None
    page.unroute("**/choices")
    retry.click()
    expect(adoption).to_contain_text(f"You adopted {name}!")
    assert stored_choices(stack)[rec_id] == page.locator("#result").get_attribute("data-mysfit-id")


def test_an_unreachable_api_keeps_the_choice_and_offers_a_retry(page: Page, stack):
    page.route("**/choices", lambda route: route.abort())
    get_result(page, stack.url)
    name = shown_name(page)
    page.locator("#adopt-main").click()
    expect(page.locator("#adoption")).to_contain_text(f"We kept your choice of {name}")
    expect(page.locator("#adopt-retry")).to_be_enabled()
    expect(page.locator("#adopt-retry")).to_have_text(f"Try adopting {name} again")


def test_without_a_recommendation_id_no_adopt_is_offered_and_the_page_says_why(page: Page, stack):
    body = recommendation(stack.url, ANSWERS)
    body.pop("recommendationId")
    page.route("**/recommendations", lambda route: route.fulfill(json=body))
    get_result(page, stack.url)
    expect(page.locator("#adopt-main")).to_be_hidden()
    expect(page.locator("#adopt-runner-up")).to_be_hidden()
    expect(page.locator("#adoption")).to_contain_text("Adopting is not available for this result")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_in_the_adoption_states(browser, stack, scheme):
    with sized_page(browser, 390, 844, color_scheme=scheme) as page:
        page.route(
            "**/choices",
            lambda route: route.fulfill(status=503, headers={"Retry-After": "1"}, body=json.dumps({"message": "x"})),
        )
        get_result(page, stack.url)
        assert_no_axe_violations(page, f"{scheme} result with adopt")
        page.locator("#adopt-main").click()
        expect(page.locator("#adopt-retry")).to_be_visible()
        assert_no_axe_violations(page, f"{scheme} adoption failed")
        page.unroute("**/choices")
        expect(page.locator("#adopt-retry")).to_be_enabled(timeout=5000)
        page.locator("#adopt-retry").click()
        expect(page.locator("#adoption")).to_contain_text("You adopted")
        page.get_by_role("button", name="Meet all twelve").click()
        assert_no_axe_violations(page, f"{scheme} adopted")
