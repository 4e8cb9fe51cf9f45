"""Issue 31, the page's third pass: a result link opens on the result, one journey is one recommendation and at most
one adoption, a shared result is someone else's, a Mysfit introduced by the data loop is not passed off as the model's
pick, a slow answer is visible and can be stopped, and adopting confirms at the button. Real Chromium against the
real local stack; crafted API answers only for what the model cannot produce on demand (an explored answer, a busy
store)."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import urljoin, urlparse

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from mysfits_api.catalog import load_catalog
from tests.e2e.page_support import (
    ANSWERS,
    NAMES,
    answer,
    assert_no_axe_violations,
    contrast,
    expect_answers_kept,
    open_questions,
    recommendation,
    sized_page,
)
from tests.e2e.test_page_adopt import stored_choices

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MYSFITS = {m.id: m for m in load_catalog()}
VIEWPORTS = [(390, 844), (1280, 800)]

LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts.push(entry.value);
}).observe({ type: "layout-shift", buffered: true });
"""

# What the first screen shows: where the result's heading and card are, and what is drawn between the header and the
# card, sampled down the middle of the window (anything outside the result there is something else filling it).
FIRST_SCREEN = """() => {
  const box = (id) => document.getElementById(id).getBoundingClientRect();
  const header = document.querySelector(".site-header").getBoundingClientRect();
  const card = document.querySelector("#result .card").getBoundingClientRect();
  const strangers = [];
  for (let y = header.bottom + 1; y < Math.min(card.top, innerHeight); y += 8) {
    const hit = document.elementFromPoint(innerWidth / 2, y);
    if (hit && !hit.closest("#result") && !["MAIN", "BODY", "HTML"].includes(hit.tagName)) {
      strangers.push(hit.id || hit.className || hit.tagName);
    }
  }
  return {
    heading: box("result-heading").top, card: card.top, cardBottom: card.bottom, scrollY: window.scrollY,
    loading: !document.getElementById("loading").hidden, strangers: [...new Set(strangers)],
  };
}"""


def result_url(stack, page: Page) -> str:
    open_questions(page, stack.url)
    answer(page, ANSWERS)
    page.get_by_role("button", name="Find my Mysfit").click()
    expect(page.locator("#result-heading")).to_be_focused()
    return page.url


def legacy_link(stack) -> str:
    """A result link as the page made them before each Mysfit had its own page: the answers at the site's root."""
    return f"{stack.url}/?a={','.join(map(str, ANSWERS))}"


def record_posts(context: BrowserContext) -> list[str]:
    """The path of every POST any page of ``context`` sends, in order."""
    posted: list[str] = []
    context.on("request", lambda r: posted.append(urlparse(r.url).path) if r.method == "POST" else None)
    return posted


def expect_result_on_the_first_screen(page: Page, height: int, heading: str) -> None:
    expect(page.locator("#result-heading")).to_have_text(heading)
    expect(page.locator("#loading")).to_be_hidden()
    screen = page.evaluate(FIRST_SCREEN)
    assert screen["scrollY"] == 0, screen
    assert 0 <= screen["heading"] < 0.25 * height, f"the heading starts at y {screen['heading']}: {screen}"
    assert screen["card"] < 0.4 * height, f"the card starts at y {screen['card']}: {screen}"
    assert screen["strangers"] == [], f"something else fills the first screen: {screen}"
    assert sum(page.evaluate("window.__shifts")) < 0.05, page.evaluate("window.__shifts")


# --- item 1: a link, a reload and Forward open on the result ---------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_result_link_a_reload_and_forward_open_on_the_result_on_the_first_screen(browser, stack, viewport):
    width, height = viewport
    name = recommendation(stack.url, ANSWERS)["mysfit"]["name"]
    with sized_page(browser, width, height) as page:
        page.add_init_script(LAYOUT_SHIFTS)
        url = result_url(stack, page)
        page.reload()
        expect_result_on_the_first_screen(page, height, f"You're {name}!")
        page.go_back()
        expect(page.locator("#questionnaire")).to_be_visible()
        page.go_forward()
        expect_result_on_the_first_screen(page, height, f"You're {name}!")
    with sized_page(browser, width, height) as friend:  # another browser: the link is someone else's result
        friend.add_init_script(LAYOUT_SHIFTS)
        friend.goto(url)
        expect_result_on_the_first_screen(friend, height, f"This is {name}")
        friend.goto(legacy_link(stack))  # a link from before results had their own pages: the API is asked
        expect_result_on_the_first_screen(friend, height, f"This is {name}")


# --- item 3: one journey, one recommendation, at most one adoption ----------------------------------------------


def test_one_journey_is_one_recommendation_and_at_most_one_adoption(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        posted = record_posts(context)
        page = context.new_page()
        open_questions(page, stack.url)
        answer(page, ANSWERS)
        with page.expect_response("**/recommendations") as got:
            page.get_by_role("button", name="Find my Mysfit").click()
        answered = [got.value.json()]
        expect(page.locator("#result-heading")).to_be_focused()
        url = page.url
        mysfit_id = answered[0]["recommendedMysfit"]
        own = f"You're {NAMES[mysfit_id]}!"
        page.reload()
        expect(page.locator("#result-heading")).to_have_text(own)
        page.go_back()
        expect(page.locator("#questionnaire")).to_be_visible()
        page.go_forward()
        expect(page.locator("#result-heading")).to_have_text(own)
        page.get_by_role("button", name="Change my answers").click()
        page.get_by_role("button", name="Find my Mysfit").click()  # the same answers again: the same journey
        expect(page.locator("#result-heading")).to_have_text(own)
        assert posted == ["/recommendations"]

        page.locator("#adopt-main").click()
        expect(page.locator("#adoption")).to_contain_text(f"You adopted {NAMES[mysfit_id]}!")
        page.reload()
        expect(page.locator("#result-heading")).to_have_text(own)
        adopted = page.locator("#adopt-main")
        expect(adopted).to_have_text(f"Adopted {NAMES[mysfit_id]}")
        expect(adopted).to_be_disabled()
        expect(page.locator("button.adopt:enabled")).to_have_count(0)
        page.close()

        reopened = context.new_page()  # the tab closed and opened again from history
        reopened.goto(url)
        expect(reopened.locator("#result-heading")).to_have_text(own)
        expect(reopened.locator("#adopt-main")).to_have_text(f"Adopted {NAMES[mysfit_id]}")
        reopened.get_by_role("button", name="Meet all twelve").click()
        expect(reopened.locator("button.adopt:enabled")).to_have_count(0)
        assert posted == ["/recommendations", "/choices"]
        assert stored_choices(stack)[answered[0]["recommendationId"]] == mysfit_id
    finally:
        context.close()


# --- item 2: a shared result is someone else's -----------------------------------------------------------------


def test_a_shared_link_is_someone_elses_result_invites_the_quiz_and_cannot_be_adopted(browser, stack):
    with sized_page(browser, 390, 844) as sharer:
        url = result_url(stack, sharer)
    name = recommendation(stack.url, ANSWERS)["mysfit"]["name"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        posted = record_posts(context)
        friend = context.new_page()
        friend.goto(url)
        heading = friend.locator("#result-heading")
        expect(heading).to_have_text(f"This is {name}")
        expect(heading).to_be_focused()
        expect(friend.locator("#shared-eyebrow")).to_have_text("A shared result")
        expect(friend.locator("#shared-text")).to_contain_text(f"Someone who took the quiz met {name}")
        expect(friend.locator("#shared-text")).to_contain_text("Which Mysfit is yours?")
        assert not friend.title().startswith("You're"), friend.title()
        expect(friend.get_by_text("You're", exact=False)).to_have_count(0)
        expect(friend.locator("#why")).to_be_hidden()  # the reasons are about the sharer's answers
        expect(friend.locator("button.adopt:visible")).to_have_count(0)
        friend.get_by_role("button", name="Meet all twelve").click()
        expect(friend.locator(".gallery-item")).to_have_count(12)
        expect(friend.locator("button.adopt:visible")).to_have_count(0)
        invitation = friend.get_by_role("button", name="Take the quiz yourself")
        expect(invitation).to_be_visible()
        assert posted == []  # nothing asked, nothing stored, for a result that is someone else's
        invitation.click()
        expect(friend.locator("#title")).to_be_focused()
        expect(friend.locator("input:checked")).to_have_count(0)
        assert "?a=" not in friend.url

        # A link without the Mysfit's name (made before it carried one): asked once, then kept, still not adoptable.
        friend.goto(legacy_link(stack))
        expect(heading).to_have_text(f"This is {name}")
        friend.reload()
        expect(heading).to_have_text(f"This is {name}")
        expect(friend.locator("button.adopt:visible")).to_have_count(0)
        assert posted == ["/recommendations"]
    finally:
        context.close()


def preview_tags(url: str) -> dict[str, str]:
    """What a crawler reads of a link: the og: and twitter: tags of the HTML it gets, no script run."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    return dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)"', response.text))


def test_a_shared_link_previews_its_own_mysfit_to_a_crawler(browser, stack):
    with sized_page(browser, 390, 844) as page:
        url = result_url(stack, page)
        name = NAMES[page.locator("#result").get_attribute("data-mysfit-id")]
    tags = preview_tags(url)
    assert name in tags["og:title"] and name in tags["og:description"], tags
    assert tags["twitter:card"] == "summary_large_image"
    picture = httpx.get(urljoin(url, tags["og:image"]), timeout=10)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert struct.unpack(">II", picture.content[16:24]) == (1200, 630)
    others = {
        preview_tags(f"{stack.url}/m/{m.name.lower().replace(' ', '-')}.html")["og:image"] for m in MYSFITS.values()
    }
    assert len(others) == len(MYSFITS), "every Mysfit previews with a picture of its own"


# --- the data loop's exploration: the page does not claim the model picked what it shows -------------------------


def explored(stack) -> dict:
    """The real API's answer for ANSWERS, turned into an explored one: another Mysfit shown, the model's pick kept."""
    body = recommendation(stack.url, ANSWERS)
    pick = body["recommendedMysfit"]
    shown = next(i for i in MYSFITS if i != pick and all(v["mysfitId"] != i for v in body["why"]["votes"]))
    return {**body, "recommendedMysfit": shown, "mysfit": MYSFITS[shown].profile(), "modelPick": pick, "explored": True}


def test_an_explored_mysfit_is_introduced_and_the_models_pick_is_named_with_its_reasons(page: Page, stack):
    body = explored(stack)
    shown, pick = NAMES[body["recommendedMysfit"]], NAMES[body["modelPick"]]
    page.route("**/recommendations", lambda route: route.fulfill(json=body))
    result_url(stack, page)
    expect(page.locator("#result-heading")).to_have_text(f"Meet {shown}")
    expect(page.get_by_text(f"You're {shown}")).to_have_count(0)
    note = page.locator("#explored")
    expect(note).to_contain_text(
        f"Your closest match, going by the visitors whose answers were nearest yours, is {pick}."
    )
    expect(note).to_contain_text("Now and then we introduce a Mysfit other than the closest match")
    # The reasons are the model pick's, and it is one step away: named, drawn and adoptable.
    expect(page.locator("#why-heading")).to_have_text(f"Why {pick} is your closest match")
    expect(page.locator("#why-votes")).to_contain_text(f"chose {pick}")
    expect(page.locator("#runner-up-label")).to_have_text("Your closest match")
    page.get_by_role("button", name=f"See {pick}").click()
    runner_up = page.locator("#runner-up")
    expect(runner_up).to_be_focused()
    expect(runner_up).to_be_in_viewport()
    expect(runner_up.get_by_role("button", name=f"Adopt {pick} instead")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"is {pick}")
    assert_no_axe_violations(page, "an explored result")

    page.unroute("**/recommendations")
    sent = []
    page.on("request", lambda r: r.url.endswith("/choices") and sent.append(json.loads(r.post_data)))
    page.locator("#adopt-main").click()
    expect(page.locator("#adoption")).to_contain_text(f"You adopted {shown}!")
    assert sent == [{"recommendationId": body["recommendationId"], "mysfitId": body["recommendedMysfit"]}]
    assert stored_choices(stack)[body["recommendationId"]] == body["recommendedMysfit"]


def test_an_answer_that_was_not_explored_is_the_models_pick(page: Page, stack):
    body = recommendation(stack.url, ANSWERS)
    body.update(modelPick=body["recommendedMysfit"], explored=False)
    page.route("**/recommendations", lambda route: route.fulfill(json=body))
    result_url(stack, page)
    expect(page.locator("#result-heading")).to_have_text(f"You're {body['mysfit']['name']}!")
    expect(page.locator("#explored")).to_be_hidden()


# --- item 4: a slow answer is visible, and the visitor can stop waiting ------------------------------------------


def in_view(page: Page, selector: str, height: int) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_slow_answer_is_shown_on_screen_and_the_visitor_can_stop_waiting(browser, stack, viewport):
    width, height = viewport
    with sized_page(browser, width, height) as page:
        page.route("**/config.json", lambda route: route.fulfill(json={"apiBaseUrl": "", "wakingUpMs": 300}))
        held = []
        page.route("**/recommendations", lambda route: held.append(route))
        open_questions(page, stack.url)
        answer(page, ANSWERS)
        page.get_by_role("button", name="Find my Mysfit").click()
        waiting = page.locator("#waiting-text")
        expect(waiting).to_have_text("Waking up our matchmaker after a quiet spell; this can take up to half a minute.")
        assert in_view(page, "#waiting-text", height), "the wait is explained out of sight"
        stop = page.get_by_role("button", name="Stop waiting")
        assert in_view(page, "#stop-waiting", height)
        stop.click()
        expect(waiting).to_be_hidden()
        expect(page.get_by_role("status")).to_contain_text("Stopped waiting. Your answers are still here.")
        expect(page.get_by_role("alert")).to_be_hidden()
        expect(page.locator("#submit")).to_be_focused()
        expect(page.locator("#submit")).to_have_text("Find my Mysfit")
        expect_answers_kept(page, ANSWERS)
        expect(page.locator("#q0-o1")).to_be_enabled()
        page.unroute("**/recommendations")
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator("#result-heading")).to_be_focused()
        assert len(held) == 1


def test_a_slow_shared_link_says_so_and_can_be_stopped(browser, stack):
    with sized_page(browser, 390, 844) as page:
        page.route("**/config.json", lambda route: route.fulfill(json={"apiBaseUrl": "", "wakingUpMs": 300}))
        page.route("**/recommendations", lambda route: None)  # never answered
        page.goto(f"{stack.url}/?a={','.join(map(str, ANSWERS))}")
        expect(page.locator("#loading-text")).to_have_text("Opening a shared result…")
        expect(page.locator("#loading-waiting")).to_contain_text("Waking up our matchmaker")
        assert in_view(page, "#loading-waiting", 844)
        assert_no_axe_violations(page, "a slow shared link")
        page.get_by_role("button", name="Stop waiting").click()
        expect(page.locator("#questionnaire")).to_be_visible()
        expect(page.locator("#loading")).to_be_hidden()


# --- item 5: adopting confirms at the button ----------------------------------------------------------------------


def colour(page: Page, selector: str, prop: str) -> str:
    return page.locator(selector).evaluate(f"(e) => getComputedStyle(e).{prop}")


def expect_confirmed_at(page: Page, button, height: int, scrolled_before: float) -> None:
    """The confirmation has focus, sits right under the pressed button, and both are on screen where they were."""
    adoption = page.locator("#adoption")
    expect(adoption).to_be_focused()
    box, pressed = adoption.bounding_box(), button.bounding_box()
    gap = box["y"] - (pressed["y"] + pressed["height"])
    assert 0 <= gap < 40, f"the confirmation is {gap} px from the button"
    assert pressed["y"] >= 0 and box["y"] + box["height"] <= height, "the button or its confirmation is out of sight"
    assert abs(page.evaluate("scrollY") - scrolled_before) < 150, "the page jumped away from the button"


def test_adopting_confirms_under_the_pressed_button_and_says_it_is_done(browser, stack):
    with sized_page(browser, 390, 844) as page:
        result_url(stack, page)
        name = NAMES[page.locator("#result").get_attribute("data-mysfit-id")]
        button = page.locator("#adopt-main")
        button.scroll_into_view_if_needed()
        before = page.evaluate("scrollY")
        button.click()
        expect(page.locator("#adoption")).to_contain_text(f"You adopted {name}!")
        expect_confirmed_at(page, button, 844, before)
        expect(button).to_have_text(f"Adopted {name}")
        expect(page.locator("#adoption")).to_have_class("adoption success")
        success = colour(page, "#adoption", "borderTopColor")
        success_mark = page.locator("#adoption-text").evaluate("(e) => getComputedStyle(e, '::before').content")
        expect(page.locator("button.adopt:visible")).to_have_count(1)
        assert_no_axe_violations(page, "adopted, confirmed at the button")

    with sized_page(browser, 390, 844) as page:
        page.route("**/choices", lambda route: route.abort())
        result_url(stack, page)
        page.locator("#adopt-main").click()
        expect(page.locator("#adoption")).to_have_class("adoption failure")
        failure = colour(page, "#adoption", "borderTopColor")
        background = colour(page, "#adoption", "backgroundColor")
        failure_mark = page.locator("#adoption-text").evaluate("(e) => getComputedStyle(e, '::before').content")
    # Told apart by colour and, for those who do not see it, by a mark of their own.
    assert failure != success, (failure, success)
    assert (success_mark, failure_mark) == ('"✓ "', '"⚠ "'), (success_mark, failure_mark)
    assert contrast(failure, background) >= 3, "the failure's border must be seen"


def test_adopting_from_the_gallery_confirms_in_the_tile_and_the_result_says_which(browser, stack):
    body = recommendation(stack.url, ANSWERS)
    other = next(i for i in MYSFITS if i != body["recommendedMysfit"])
    with sized_page(browser, 390, 844) as page:
        result_url(stack, page)
        page.get_by_role("button", name="Meet all twelve").click()
        tile = page.locator(f'.gallery-item[data-mysfit-id="{other}"]')
        button = tile.locator(".gallery-adopt")
        expect(button).to_have_text(f"Adopt {NAMES[other]}")
        button.scroll_into_view_if_needed()
        before = page.evaluate("scrollY")
        button.click()
        expect(tile.locator("#adoption")).to_contain_text(f"You adopted {NAMES[other]}!")
        expect_confirmed_at(page, button, 844, before)
        expect(tile.locator(".gallery-badge")).to_have_text("Adopted")
        expect(page.locator("#adopted-note")).to_have_text(f"You adopted {NAMES[other]} instead.")
        expect(page.locator("#adopt-main")).to_be_hidden()
        expect(page.locator("button.adopt:visible")).to_have_count(1)


def test_every_adopt_button_waits_out_the_retry_after(page: Page, stack):
    page.route(
        "**/choices", lambda route: route.fulfill(status=503, headers={"Retry-After": "2"}, json={"message": "busy"})
    )
    result_url(stack, page)
    page.get_by_role("button", name="Meet all twelve").click()
    page.locator("#adopt-main").click()
    expect(page.locator("#adopt-retry")).to_have_text("Try again in 2 s")
    buttons = page.locator("button.adopt:visible")
    assert buttons.count() >= 13  # the card's, the runner-up's and the twelve tiles'
    for button in buttons.all():
        expect(button).to_be_disabled()
    expect(page.locator("#adopt-retry")).to_be_enabled(timeout=5000)
    for button in buttons.all():
        expect(button).to_be_enabled()


# --- items 8 and 10: labels that follow the votes, one way to ask again, names that differ ----------------------


def test_the_runner_up_label_follows_its_votes(page: Page, stack):
    body = recommendation(stack.url, ANSWERS)
    first, second = body["why"]["votes"][0]["mysfitId"], next(i for i in MYSFITS if i != body["recommendedMysfit"])
    body["why"].update(neighbours=10, votes=[{"mysfitId": first, "count": 8}, {"mysfitId": second, "count": 2}])
    page.route("**/recommendations", lambda route: route.fulfill(json=body))
    result_url(stack, page)
    expect(page.locator("#runner-up-label")).to_have_text("Next in line, with 2 of 10 votes")


def test_the_error_offers_one_way_to_ask_again(page: Page, stack):
    page.route("**/recommendations", lambda route: route.abort())
    open_questions(page, stack.url)
    answer(page, ANSWERS)
    page.get_by_role("button", name="Find my Mysfit").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_have_count(1)
    expect(page.get_by_role("button", name="Find my Mysfit")).to_have_count(0)


def test_the_result_region_card_and_heading_have_names_of_their_own(page: Page, stack):
    result_url(stack, page)
    name = NAMES[page.locator("#result").get_attribute("data-mysfit-id")]
    expect(page.get_by_role("region", name="Your result")).to_be_visible()
    expect(page.get_by_role("article", name=f"About {name}")).to_be_visible()
    expect(page.get_by_role("heading", name=f"You're {name}!")).to_be_visible()


def test_the_live_region_lets_go_of_the_broken_link_notice(page: Page, stack):
    page.goto(stack.url + "/?a=1,2,3")
    status = page.get_by_role("status")
    expect(status).to_contain_text("couldn't read")
    answer(page, ANSWERS[:1])
    expect(page.locator("#notice")).to_be_hidden()
    expect(status).not_to_contain_text("couldn't read")


# --- item 6: one question per screen ------------------------------------------------------------------------------

# Where the question on screen ends and where the footer (the count and the buttons, always in view) begins.
QUESTION_FIT = """() => {
  const shown = [...document.querySelectorAll(".question")].filter((q) => q.offsetParent !== null);
  const footer = document.querySelector(".form-footer").getBoundingClientRect();
  const steps = document.getElementById("steps").getBoundingClientRect();
  return { shown: shown.length, bottom: shown[0].getBoundingClientRect().bottom, footer: footer.top,
           footerBottom: footer.bottom, steps: steps.top, stepsBottom: steps.bottom };
}"""


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_one_question_per_screen_a_scale_drawn_as_one_and_a_choice_moves_on(browser, stack, viewport):
    width, height = viewport
    with sized_page(browser, width, height) as page:
        open_questions(page, stack.url)
        for index in range(5):
            fit = page.evaluate(QUESTION_FIT)
            assert fit["shown"] == 1, f"{fit['shown']} questions on screen at once"
            assert 0 <= fit["steps"] and fit["footerBottom"] <= height, f"the progress is out of view: {fit}"
            if index > 0 or width > 400:  # the first question on a phone shares its screen with the introduction
                assert fit["bottom"] <= fit["footer"], f"question {index + 1} does not fit its screen: {fit}"
            ends = page.locator(".question:visible .scale-end")
            expect(ends).to_have_text(["One end of the scale", "The other end"])
            first, last = page.locator(f"#q{index}-o1").bounding_box(), page.locator(f"#q{index}-o8").bounding_box()
            assert ends.nth(0).bounding_box()["y"] < first["y"] and ends.nth(1).bounding_box()["y"] > last["y"]
            expect(page.locator(f"#step-{index}")).to_have_class(re.compile(r"\bcurrent\b"))
            page.locator(f"label[for=q{index}-o{ANSWERS[index]}]").click()  # a pointer's choice moves on by itself
            if index < 4:
                expect(page.locator(f"#q{index + 1}-o1")).to_be_visible()
                expect(page.locator(f"#q{index}-o1")).to_be_hidden()
        expect(page.get_by_role("button", name="Find my Mysfit")).to_be_focused()
        page.get_by_role("button", name="Back").click()  # to change an answer
        expect(page.locator(f"#q3-o{ANSWERS[3]}")).to_be_checked()
        expect(page.locator(f"#q3-o{ANSWERS[3]}")).to_be_focused()
        page.keyboard.press("ArrowDown")  # the keyboard chooses without being moved on
        page.wait_for_timeout(600)
        expect(page.locator(f"#q3-o{ANSWERS[3] + 1}")).to_be_checked()
        expect(page.locator("#q3-o1")).to_be_visible()
        expect(page.locator("#progress")).to_have_text("5 of 5 answered")
        assert_no_axe_violations(page, f"one question at a time, {width}px")


# --- item 9: the gallery ------------------------------------------------------------------------------------------


def test_a_mysfit_opens_to_its_full_card_in_place_and_back_closes_it(browser, stack):
    mysfit = next(m for m in MYSFITS.values() if m.name == "Twilight Glitter")
    with sized_page(browser, 390, 844) as page:
        url = result_url(stack, page)
        page.get_by_role("button", name="Meet all twelve").click()
        tile = page.locator(f'.gallery-item[data-mysfit-id="{mysfit.id}"]')
        row_before = tile.bounding_box()["height"]
        about = tile.get_by_role("button", name=f"About {mysfit.name}")
        about.click()
        card = page.get_by_role("dialog", name=mysfit.name)
        expect(card).to_be_visible()
        expect(card.locator("#dialog-species")).to_have_text(mysfit.species)
        expect(card.locator("#dialog-age")).not_to_be_empty()
        expect(card.locator("#dialog-alignment")).not_to_be_empty()
        expect(card).to_contain_text(mysfit.description)
        assert tile.bounding_box()["height"] == row_before, "opening a Mysfit stretched its row"
        assert_no_axe_violations(page, "a Mysfit's card open")
        page.go_back()  # closes the card, and stays on the result
        expect(card).to_be_hidden()
        expect(page.locator("#result-heading")).to_be_visible()
        assert page.url.split("#")[0] == url
        about.click()
        expect(card).to_be_visible()
        page.keyboard.press("Escape")
        expect(card).to_be_hidden()
        expect(about).to_be_focused()
        expect(page.locator("#result-heading")).to_be_visible()
        page.wait_for_function("!location.hash")
        page.go_back()  # the card's own entry is gone: Back leaves the result for the form, as it would have
        expect(page.locator("#questionnaire")).to_be_visible()


def test_the_twelve_can_be_met_before_answering_and_their_buttons_line_up(browser, stack):
    with sized_page(browser, 1280, 800) as page:
        open_questions(page, stack.url)
        page.get_by_role("button", name="Meet the twelve Mysfits first").click()
        expect(page.locator("#gallery-heading")).to_be_focused()
        expect(page.locator(".gallery-item")).to_have_count(12)
        expect(page.locator("button.adopt:visible")).to_have_count(0)  # nothing to adopt before a result
        page.get_by_role("button", name="About CoCo").click()
        expect(page.get_by_role("dialog", name="CoCo")).to_be_visible()
        page.keyboard.press("Escape")
        answer(page, ANSWERS)
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator("#result-heading")).to_be_focused()
        page.get_by_role("button", name="Meet all twelve").click()
        bottoms: dict[int, set[int]] = {}
        for tile in page.locator(".gallery-item").all():
            box, button = tile.bounding_box(), tile.locator(".gallery-adopt").bounding_box()
            bottoms.setdefault(round(box["y"]), set()).add(round(button["y"] + button["height"]))
        assert all(len(row) == 1 for row in bottoms.values()), f"the buttons of a row do not line up: {bottoms}"


# --- axe in every state this pass adds ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_axe_finds_nothing_in_the_new_states(browser, stack, scheme, viewport):
    width, height = viewport
    with sized_page(browser, width, height, color_scheme=scheme) as page:
        state = f"{scheme} {width}px"
        held = []
        page.route("**/recommendations", lambda route: held.append(route))
        page.goto(f"{stack.url}/?a={','.join(map(str, ANSWERS))}")
        expect(page.locator("#loading-text")).to_have_text("Opening a shared result…")
        assert_no_axe_violations(page, f"{state} a cold result link, loading")
        held.pop().continue_()
        expect(page.locator("#result-heading")).to_have_text(re.compile("^This is "))
        assert_no_axe_violations(page, f"{state} a shared result")

        page.get_by_role("button", name="Take the quiz yourself").click()
        expect(page.locator("#q0-o1")).to_be_visible()
        assert_no_axe_violations(page, f"{state} one question at a time")
        page.route("**/config.json", lambda route: route.fulfill(json={"apiBaseUrl": "", "wakingUpMs": 200}))
        page.reload()
        answer(page, [4, 4, 4, 4, 4])
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator("#waiting")).to_be_visible()
        assert_no_axe_violations(page, f"{state} waiting, with a way to stop")
        held.pop().continue_()
        expect(page.locator("#result-heading")).to_be_focused()
        page.locator("#adopt-main").click()
        expect(page.locator("#adoption")).to_have_class("adoption success")
        page.reload()
        expect(page.locator("#adopt-main")).to_have_attribute("aria-pressed", "true")
        page.get_by_role("button", name="Meet all twelve").click()
        assert_no_axe_violations(page, f"{state} adopted, after a reload")

        page.unroute("**/recommendations")
        body = explored(stack)
        page.route("**/recommendations", lambda route: route.fulfill(json=body))
        page.get_by_role("button", name="Start over").click()
        answer(page, [5, 5, 5, 5, 5])  # answers with no journey yet in this browser
        page.get_by_role("button", name="Find my Mysfit").click()
        expect(page.locator("#explored")).to_be_visible()
        assert_no_axe_violations(page, f"{state} an explored result")
