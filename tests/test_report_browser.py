"""The report in a real browser: headless Chromium from Debian, driven by Playwright.

``make browser-deps`` installs Chromium (``apt-get install chromium chromium-driver``);
Playwright's own browser download is never used.
"""
from __future__ import annotations

import os

import pytest
from test_report import XSS, make_run

from wiredesk.pipeline.report import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing: run `make browser-deps` (Debian chromium)")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright missing: `make install` (test extra)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def shown(locator) -> bool:
    """The element becomes visible (Playwright waits for it): the report's scripts run on events (a click, a
    hash change), after the action that fires them has returned. An immediate ``is_visible()`` there raced the
    script under load and failed once."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=15_000)
    return True


def hidden(locator) -> bool:
    """The element becomes hidden (Playwright waits for it)."""
    from playwright.sync_api import expect

    expect(locator).to_be_hidden(timeout=15_000)
    return True


def open_page(browser, path):
    """The report at file://path, with every request, console message, dialog and page error recorded."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(15_000)
    seen = {"requests": [], "console": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()
    page.on("dialog", dialog)
    url = "file://" + os.path.abspath(path)
    page.goto(url, wait_until="load")
    return page, url, seen


def test_seeds_report_in_chromium(browser, tmp_path, run_cli):
    out = tmp_path / "out"
    assert run_cli("--output", out)[0] == 0
    page, url, seen = open_page(browser, write_report(str(out)))

    events = page.locator("#events li.event")
    assert events.count() == 1 and events.first.is_visible()
    assert "US begins evacuating the Green Zone in Iraq" in events.first.locator("summary").inner_text()
    mark = page.locator("svg#timeline a.mark[data-event='1'] circle")
    assert page.locator("svg#timeline").is_visible() and mark.is_visible()
    box, svg = mark.bounding_box(), page.locator("svg#timeline").bounding_box()
    assert box["width"] > 4 and svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"]
    assert page.locator("svg#sources rect.canonical").count() == 5

    stories = page.locator("#ev-1 li.story")
    assert stories.count() == 5 and not stories.first.is_visible()  # closed until clicked
    page.locator("#ev-1 summary").click()
    for i in range(5):
        assert shown(stories.nth(i))
    assert "Iraq" in stories.first.inner_text()

    page.locator("#collapse").click()
    assert hidden(stories.first)
    mark.click()  # a timeline mark opens its event
    assert page.evaluate("location.hash") == "#ev-1"
    assert shown(stories.first)
    page.locator("#filter").fill("no such event")
    assert hidden(events.first)
    page.locator("#filter").fill("green zone")
    assert shown(events.first)

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert seen["requests"] == [url], seen["requests"]  # nothing but the file itself
    assert seen == {"requests": [url], "console": [], "dialogs": [], "errors": []}


def test_hostile_text_stays_text_in_chromium(browser, tmp_path):
    out = make_run(tmp_path / "out")
    page, url, seen = open_page(browser, write_report(str(out)))
    page.locator("#expand").click()
    assert page.locator("#ev-2 summary .title").inner_text() == XSS
    assert XSS in page.locator("#ev-2 li.story[data-article='X/7']").inner_text()
    page.locator("tr.reject summary").first.click()
    raw = page.locator("tr.reject").first.locator("pre").nth(1)
    assert shown(raw) and raw.inner_text().endswith("<img src=x onerror=alert(2)>")
    assert page.locator("svg#timeline g.undated a.mark").count() == 1
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    assert seen == {"requests": [url], "console": [], "dialogs": [], "errors": []}
