"""The creator page in a real browser (Debian's chromium driven by Playwright): paste a key,
submit a topic, watch it advance without reloading, play the video, download it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("VIDEOAGENT_SCREENSHOTS", "")) if os.environ.get("VIDEOAGENT_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (run-tests.sh installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", SHOTS / f"{name}.png")


def test_make_a_video_from_the_page(service, browser, tmp_path):
    key = service.new_key("page-user")
    page = browser.new_page(viewport={"width": 420, "height": 900}, accept_downloads=True)  # a phone's width
    page.goto(service.url + "/")
    page.fill("#key", key)
    page.click("#save-key")
    page.fill("#topic", "Autumn leaves in Kyoto")
    page.fill("#duration", "6")
    page.select_option("#resolution", "180p")
    page.click("#estimate")
    page.wait_for_function("document.getElementById('estimate-out').textContent.includes('$')")
    shot(page, tmp_path, "1-form")
    page.click("#submit")
    page.wait_for_selector("#task:not([hidden])")
    steps = set()
    page.wait_for_function("document.getElementById('task-step').textContent.length > 0")
    for _ in range(600):  # what the page shows changes as the events arrive, with no reload
        steps.add(page.inner_text("#task-step"))
        if page.is_visible("#result"):
            break
        if "Failed" in page.inner_text("#task-error"):
            raise AssertionError(page.inner_text("#task-error"))
        page.wait_for_timeout(200)
        if len(steps) == 3:
            shot(page, tmp_path, "2-progress")
    assert page.is_visible("#result"), steps
    assert len(steps) >= 3, steps  # several states seen on one page load
    duration = page.evaluate("""() => new Promise((ok, bad) => {
        const v = document.getElementById('player');
        if (v.readyState >= 1) return ok(v.duration);
        v.addEventListener('loadedmetadata', () => ok(v.duration));
        v.addEventListener('error', () => bad(new Error('the video does not load')));
    })""")
    assert duration == pytest.approx(6, abs=0.3)
    assert page.locator("#frames img").count() >= 1
    shot(page, tmp_path, "3-done")
    with page.expect_download() as download:
        page.click("a.download >> text=Download video")
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)
    assert saved.stat().st_size > 1000 and saved.read_bytes()[4:8] == b"ftyp"
    rows = page.locator("#tasks tr")
    assert rows.count() >= 1 and "completed" in rows.first.inner_text()

    # The storyboard as cards with their frames: change one shot's narration and remake it; the cut
    # shown stays playable while the new one is made, and the card shows the change once it is.
    page.wait_for_selector("#cards .card img")
    first = page.locator("#cards .card").first
    assert first.locator("img").get_attribute("src") and "Shot 1" in first.inner_text()
    old_src = page.get_attribute("#player", "src")
    first.locator("textarea[name=narration]").fill("Red leaves drift down.")
    first.locator("button", has_text="Remake this shot").click()
    page.wait_for_function("document.getElementById('task-step').textContent && "
                           "!document.getElementById('task-step').textContent.startsWith('completed')", timeout=30000)
    assert page.get_attribute("#player", "src") == old_src and page.is_visible("#player")  # still the old cut
    page.wait_for_function("document.getElementById('task-step').textContent.startsWith('completed')", timeout=180000)
    page.wait_for_function("[...document.querySelectorAll('#cards textarea[name=narration]')]"
                           ".some(t => t.value === 'Red leaves drift down.')", timeout=30000)
    assert page.get_attribute("#player", "src") != old_src  # the new cut
    assert page.inner_text("#card-error") == ""
    shot(page, tmp_path, "4-remade")
    page.close()


def test_a_wrong_key_and_a_bad_brief_are_said_plainly(service, browser):
    page = browser.new_page()
    page.goto(service.url + "/")
    page.fill("#key", "va_wrong_key")
    page.click("#save-key")
    page.fill("#topic", "x")
    page.click("#submit")
    page.wait_for_function("document.getElementById('form-error').textContent.length > 0")
    assert "valid API key" in page.inner_text("#form-error")
    page.fill("#key", service.new_key("page-user-2"))
    page.click("#save-key")
    page.fill("#topic", "")
    page.fill("#duration", "9000")
    page.click("#submit")
    page.wait_for_function("document.getElementById('form-error').textContent.includes('options.duration')")
    error = page.inner_text("#form-error")
    assert "topic" in error and "5 to 600" in error
    page.close()
