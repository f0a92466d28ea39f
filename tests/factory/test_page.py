"""THE FACTORY in Chromium (Debian's, headless, through Playwright) over the real server
with no model configured: create a vision in the web app, run THE FACTORY (the
deterministic planner, labelled so), accept two items, check in a habit of the accepted
milestone, and see the vision's progress move and ledger receipts (an action's, the
round's attestation) verified in the browser."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cells.test_viewer import ARGS, CHROMIUM
from tests.conftest import IN_CI, Live, make_settings, running


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("factory-page") / "home")) as server:
        yield server


@pytest.fixture(scope="module")
def page(live: Live) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Debian's chromium is needed")
        pytest.skip("Debian's chromium is needed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        tab = context.new_page()
        outside: list[str] = []
        tab.on("request", lambda r: None if r.url.startswith(live.url) else outside.append(r.url))
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"{live.url}/app")
        tab.get_by_label("API key").fill(live.admin_key)
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/app/inbox")
        yield tab
        assert outside == [] and errors == []
        browser.close()


def _progress(page: Any) -> float:
    value = page.locator("section.vision > .progress-line progress").first.get_attribute("value")
    return float(value)


def test_a_vision_refined_without_a_model_then_accepted_and_checked_in(
    page: Any, live: Live, tmp_path: Path
) -> None:
    page.goto(f"{live.url}/app/visions")
    page.get_by_label("Vision").fill("Play a concert")
    page.get_by_role("button", name="Create vision").click()
    page.locator("section.vision", has_text="Play a concert").wait_for()

    page.get_by_role("link", name="THE FACTORY").click()
    page.wait_for_url("**/app/factory")
    page.get_by_label("Vision").select_option(label="Play a concert")
    page.get_by_label("Goal").fill("Learn three pieces\nRehearse with the band\nPlay the concert")
    page.get_by_label("Deadline").fill("2027-06-30")
    page.get_by_role("button", name="Run THE FACTORY").click()
    page.locator("article.round[data-round='1']").wait_for()
    page.locator("ul.decisions").wait_for()
    assert "deterministic planner" in page.locator("p.planner").inner_text()
    assert "deterministic planner" in page.locator("article.round").first.inner_text()
    first = page.locator("article.round[data-round='1'] li.item").first.inner_text()
    assert "Learn three pieces" in first and "by " in first

    first_round = page.locator("article.round[data-round='1']")
    first_round.get_by_role("button", name="Receipt of round 1").click()
    first_round.locator(".receipt", has_text="not sealed yet").wait_for()

    page.get_by_role("button", name="Accept m1").click()
    page.locator("li.decide[data-item='m1'] .decision.accepted").wait_for()
    page.get_by_role("button", name="Accept a2").click()
    page.locator("li.decide[data-item='a2'] .decision.accepted").wait_for()
    page.get_by_role("button", name="Reject a3").click()
    page.locator("li.decide[data-item='a3'] .decision.rejected").wait_for()
    page.screenshot(path=str(tmp_path / "factory.png"), full_page=True)

    with live.client() as client:
        (vision,) = client.get("/visions").json()["visions"]
        tree = client.get(f"/visions/{vision['id']}").json()
        (milestone,) = tree["milestones"]
        assert milestone["title"] == "Learn three pieces"
        assert [a["title"] for a in milestone["actions"]] == [
            "Break “Learn three pieces” into its first step"
        ]
        habit = client.post(
            "/habits", json={"name": "Practise daily", "milestoneIds": [milestone["id"]]}
        )
        assert habit.status_code == 201, habit.text

    page.goto(f"{live.url}/app/visions")
    page.locator("li.milestone", has_text="Learn three pieces").wait_for()
    before = _progress(page)
    assert before == 0.0

    page.goto(f"{live.url}/app/habits")
    row = page.locator("tr", has_text="Practise daily")
    row.locator("button.day").last.click()
    page.locator("tr", has_text="Practise daily").locator("button.day.checked").wait_for()
    assert "sealed as ledger leaf" in page.locator("#message").inner_text()

    page.goto(f"{live.url}/app/visions")
    action = page.locator("li.action", has_text="Learn three pieces")
    action.get_by_role("button", name="Mark done").click()
    page.locator("li.action.done", has_text="Learn three pieces").wait_for()
    after = _progress(page)
    assert after > before
    with live.client() as client:
        assert client.get(f"/visions/{vision['id']}").json()["progress"] == pytest.approx(after)
        assert client.post("/consolidate").status_code == 200
    page.reload()
    done = page.locator("li.action", has_text="Learn three pieces")
    done.get_by_role("button", name="Receipt").click()
    done.locator(".receipt", has_text="verified here").wait_for()
    # the round's attestation is in the sealed block too, and verifies in the browser
    page.goto(f"{live.url}/app/factory")
    page.locator("#refinements a").first.click()
    first_round = page.locator("article.round[data-round='1']")
    first_round.get_by_role("button", name="Receipt of round 1").click()
    first_round.locator(".receipt", has_text="verified here").wait_for()
