"""The vision and habit pages in Chromium (Debian's, headless, through Playwright) over
the real server: create a vision, add a milestone and two actions, mark one done and see
the progress move; check in a habit in the grid and see its streak."""

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.cells.test_viewer import ARGS, CHROMIUM
from tests.conftest import IN_CI, Live, make_settings, running


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("vision-pages") / "home")) as server:
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
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        outside: list[str] = []
        own = (live.url, f"blob:{live.url}/")  # object URLs of fetched pictures
        tab.on("request", lambda r: None if r.url.startswith(own) else outside.append(r.url))
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"{live.url}/app")
        tab.get_by_label("API key").fill(live.admin_key)
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/app/inbox")
        yield tab
        assert outside == [] and errors == []
        browser.close()


def _progress(page: Any, selector: str) -> float:
    return float(page.locator(selector).first.get_attribute("value"))


def test_a_vision_grows_in_the_browser(page: Any, live: Live, tmp_path: Path) -> None:
    page.goto(f"{live.url}/app/visions")
    page.get_by_label("Vision", exact=True).fill("Learn the cello")
    page.get_by_role("button", name="Create vision").click()
    vision = page.locator("section.vision", has_text="Learn the cello")
    vision.wait_for()
    assert _progress(page, "section.vision > .progress-line progress") == 0
    vision.get_by_label("New milestone").fill("First piece")
    vision.get_by_role("button", name="Add milestone").click()
    milestone = page.locator("li.milestone", has_text="First piece")
    milestone.wait_for()
    for title in ("Buy a cello", "Find a teacher"):
        milestone.get_by_label("New action").fill(title)
        milestone.get_by_role("button", name="Add action").click()
        page.locator("li.action", has_text=title).wait_for()
    page.locator("li.action", has_text="Buy a cello").get_by_role(
        "button", name="Mark done"
    ).click()
    page.locator("li.action.done", has_text="Buy a cello").wait_for()
    assert _progress(page, "section.vision > .progress-line progress") == pytest.approx(0.5)
    assert _progress(page, "li.milestone .progress-line progress") == pytest.approx(0.5)
    with live.client() as client:
        found = {v["title"]: v for v in client.get("/visions").json()["visions"]}
        assert found["Learn the cello"]["progress"] == pytest.approx(0.5)
        done = page.locator("li.action", has_text="Buy a cello")
        done.get_by_role("button", name="Receipt").click()
        done.locator(".receipt", has_text="not sealed yet").wait_for()
        assert client.post("/consolidate").status_code == 200
        # a photo of the receipt as the action's evidence, shown from its bytes
        photo = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 30, 30)).save(photo, "PNG")
        captured = client.post(
            "/ingest", files={"file": ("cello.png", photo.getvalue(), "image/png")}
        )
        (action_id,) = [
            a["id"] for a in client.get("/actions").json()["actions"] if a["title"] == "Buy a cello"
        ]
        patched = client.patch(
            f"/actions/{action_id}", json={"evidence": [captured.json()["h_entrada"]]}
        )
        assert patched.status_code == 200, patched.text
    page.reload()
    done = page.locator("li.action", has_text="Buy a cello")
    done.get_by_role("button", name="Receipt").click()
    done.locator(".receipt", has_text="verified here").wait_for()
    done.locator("img.evidence-thumb").wait_for()
    vision = page.locator("section.vision", has_text="Learn the cello")
    vision.get_by_role("button", name="Receipt").first.click()
    vision.locator(".receipt", has_text="verified here").first.wait_for()
    page.screenshot(path=str(tmp_path / "visions.png"))


def test_a_habit_and_a_key_result_move_a_milestone(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/app/visions")
    page.get_by_label("Vision", exact=True).fill("Run a 10k")
    page.get_by_role("button", name="Create vision").click()
    vision = page.locator("section.vision", has_text="Run a 10k")
    vision.get_by_label("New milestone").fill("Base")
    vision.get_by_role("button", name="Add milestone").click()
    milestone = page.locator("li.milestone", has_text="Base")
    milestone.get_by_label("New habit").fill("Jog")
    milestone.get_by_role("button", name="Add habit").click()
    page.locator("li.milestone", has_text="Base").locator("li.habit", has_text="Jog").wait_for()
    milestone = page.locator("li.milestone", has_text="Base")
    milestone.get_by_label("New key result").fill("km a week")
    milestone.get_by_label("Target value").fill("20")
    milestone.get_by_role("button", name="Add key result").click()
    result = page.locator("li.key-result", has_text="km a week")
    result.wait_for()
    result.get_by_label("New value of km a week").fill("10")
    result.get_by_role("button", name="Check in").click()
    page.locator("li.key-result", has_text="10 of 20").wait_for()
    before = float(
        page.locator("section.vision", has_text="Run a 10k")
        .locator(".progress-line progress")
        .first.get_attribute("value")
    )
    assert before == pytest.approx(0.25)  # the key result at half, the habit at none
    page.goto(f"{live.url}/app/habits")
    page.locator("tr", has_text="Jog").locator("button.day").last.click()
    page.locator("tr", has_text="Jog").locator("button.day.checked").wait_for()
    page.goto(f"{live.url}/app/visions")
    page.locator("li.habit", has_text="streak 1").wait_for()
    after = float(
        page.locator("section.vision", has_text="Run a 10k")
        .locator(".progress-line progress")
        .first.get_attribute("value")
    )
    assert after > before


def test_a_habit_is_checked_in_on_the_grid(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/app/habits")
    page.get_by_label("Habit", exact=True).fill("Practise scales")
    page.get_by_role("button", name="Add habit").click()
    row = page.locator("tr", has_text="Practise scales")
    row.wait_for()
    last = row.locator("button.day").last
    assert last.get_attribute("aria-pressed") == "false"
    last.click()
    page.locator("tr", has_text="Practise scales").locator("button.day.checked").wait_for()
    assert page.locator("tr", has_text="Practise scales").locator("td.streak").inner_text() == "1"
    assert "sealed as ledger leaf" in page.locator("#message").inner_text()
    with live.client() as client:
        habits = {h["name"]: h for h in client.get("/habits").json()["habits"]}
    assert habits["Practise scales"]["currentStreak"] == 1
    assert habits["Practise scales"]["strength"] > 0


def test_a_loop_export_is_imported_from_the_page(page: Any, live: Live, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Habits.csv",
            "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
            "Color,Unit,Target Type,Target Value,Archived?\n001,Meditate,YES_NO,,,1,1,#000000,,,,false\n",
        )
        archive.writestr(
            "001 Meditate/Checkmarks.csv", "Date,Value,Notes\n2026-11-20,YES_MANUAL,\n"
        )
    export = tmp_path / "Loop Habits CSV.zip"
    export.write_bytes(buffer.getvalue())
    page.goto(f"{live.url}/app/habits")
    page.get_by_label("Loop Habit Tracker export").set_input_files(str(export))
    page.get_by_role("button", name="Import").click()
    page.locator("#message", has_text="Imported 1 habits and 1 check-ins").wait_for()
    page.locator("tr", has_text="Meditate").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export in Loop's format").click()
    saved = tmp_path / "back.zip"
    download.value.save_as(saved)
    assert "Meditate" in zipfile.ZipFile(saved).read("Habits.csv").decode()


@pytest.mark.parametrize("path", ["/app/visions", "/app/habits"])
def test_every_control_is_labelled(page: Any, live: Live, path: str) -> None:
    page.goto(f"{live.url}{path}")
    page.wait_for_load_state("networkidle")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(n => n.type !== 'hidden')
            .filter(n => !(n.id && document.querySelector(`label[for="${n.id}"]`)) && !n.getAttribute('aria-label'))
            .map(n => n.outerHTML)"""
    )
    assert unlabelled == []
    assert page.locator("input").count() > 2


def test_a_check_in_receipt_verifies_in_the_browser(page: Any, live: Live) -> None:
    with live.client() as client:
        habit = client.post("/habits", json={"name": "Receipt habit"}).json()
        checkin = client.post(f"/habits/{habit['id']}/checkins", json={"value": 1}).json()
        assert client.post("/consolidate").status_code == 200
    page.goto(f"{live.url}/app/visions")
    page.wait_for_load_state("networkidle")
    index, refused = page.evaluate(
        """async (path) => {
            const key = localStorage.getItem("tzzr.key");
            const receipt = await (await fetch(path, { headers: { Authorization: `Bearer ${key}` } })).json();
            const proven = await window.tzzrVerify.verifyLeaf(receipt.inclusion, receipt.verifier_keys, receipt.record);
            let refused = null;
            try {
                await window.tzzrVerify.verifyLeaf(receipt.inclusion, receipt.verifier_keys, { ...receipt.record, value: 7 });
            } catch (error) { refused = error.message; }
            return [proven.leafIndex, refused];
        }""",
        f"/habits/{habit['id']}/checkins/{checkin['id']}/receipt",
    )
    assert index == checkin["leafIndex"]
    assert "does not hash to the leaf" in refused
