"""The status page in a real browser: Debian's chromium, driven by Selenium through Debian's chromedriver.

Nothing is downloaded: the test uses /usr/bin/chromium and /usr/bin/chromedriver (``.ci/run`` installs
them) and talks only to the service on 127.0.0.1. ``PMO_SCREENSHOT=docs/images/status-page.png``
saves the screenshot shown in the README.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from portfolio_fixtures import make_portfolio
from service_process import ServiceProcess

from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


@pytest.fixture
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100",
                     "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def _statuses(driver: object) -> dict[str, str]:
    """Each source's status as the page shows it, read in one script so that a reload cannot interleave."""
    pairs = driver.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll('#sources tbody tr'))"
        ".map(row => [row.querySelector('td a').innerText.trim(), row.getAttribute('data-status')]);")
    return dict(pairs)


def test_the_status_page_shows_each_sources_status_its_findings_and_sync_now_updates_it(tmp_path: Path,
                                                                                      browser: object) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    config, _ = make_portfolio(tmp_path, 3)
    projects = tmp_path / "projects"
    first = subprocess.run([sys.executable, "-m", "pmo_sheets.cli", "sync", "--config", str(config.path)],
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    broken = sample_project(2)
    plant_mistakes(broken)
    write_workbook(broken, projects / "PRJ-0002.xlsx")  # valid before: now invalid, its last good data kept
    newcomer = sample_project(7)
    plant_mistakes(newcomer)
    write_workbook(newcomer, projects / "PRJ-0007.xlsx")  # never valid

    driver = browser
    with ServiceProcess(config.path, "--every", "1h", "--poll", "1h", "--debounce", "1h") as service:
        service.wait_idle()
        driver.get(service.base + "/")  # type: ignore[attr-defined]
        assert _statuses(driver) == {"projects/PRJ-0002.xlsx": "stale", "projects/PRJ-0007.xlsx": "invalid",
                                     "projects/PRJ-0001.xlsx": "ok", "projects/PRJ-0003.xlsx": "ok"}
        assert driver.find_element(By.ID, "sync-now").is_displayed()  # type: ignore[attr-defined]
        assert driver.find_element(By.CSS_SELECTOR, "svg.chart").is_displayed()  # type: ignore[attr-defined]
        if os.environ.get("PMO_SCREENSHOT"):
            driver.save_screenshot(os.environ["PMO_SCREENSHOT"])  # type: ignore[attr-defined]

        driver.find_element(By.LINK_TEXT, "projects/PRJ-0002.xlsx").click()  # type: ignore[attr-defined]
        assert driver.find_element(By.ID, "source-status").text == "stale"  # type: ignore[attr-defined]
        cells = [row.find_element(By.CSS_SELECTOR, "td.cell").text  # type: ignore[attr-defined]
                 for row in driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")]  # type: ignore[attr-defined]
        assert "Tasks!E5" in cells and "Risks!F3" in cells

        driver.get(service.base + "/")  # type: ignore[attr-defined]
        write_workbook(sample_project(7), projects / "PRJ-0007.xlsx")  # the PM fixed it; no event-driven sync (1 h debounce)
        driver.find_element(By.ID, "sync-now").click()  # type: ignore[attr-defined]
        # The page refreshes itself every 2 s while the sync runs: a read that meets a reload half-way is retried
        WebDriverWait(driver, 20, poll_frequency=0.2, ignored_exceptions=(WebDriverException,)).until(
            lambda d: _statuses(d).get("projects/PRJ-0007.xlsx") == "ok")
        assert service.json("/api/status")["last_sync"]["trigger"] == "request"

        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]  # type: ignore[attr-defined]
        assert errors == []


def test_the_status_page_reads_on_a_phone_without_sideways_scrolling(tmp_path: Path, browser: object) -> None:
    """At a phone's width (390 px) each source is a card: nothing runs off the side of the page, every
    cell keeps its label, and Sync now and a source's findings are within reach."""
    from selenium.webdriver.common.by import By

    config, _ = make_portfolio(tmp_path, 2)
    broken = sample_project(2)
    plant_mistakes(broken)
    write_workbook(broken, tmp_path / "projects" / "PRJ-0002.xlsx")

    driver = browser
    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    with ServiceProcess(config.path, "--every", "1h", "--poll", "1h", "--debounce", "1h") as service:
        service.wait_idle()
        def page_width() -> tuple[int, int]:
            return tuple(driver.execute_script(  # type: ignore[attr-defined,return-value]
                "return [window.innerWidth, document.documentElement.scrollWidth];"))

        driver.get(service.base + "/")  # type: ignore[attr-defined]
        driver.find_element(By.LINK_TEXT, "projects/PRJ-0002.xlsx").click()  # type: ignore[attr-defined]
        assert driver.find_element(By.ID, "source-status").text == "invalid"  # type: ignore[attr-defined]
        width, scrolled = page_width()
        assert width <= 390 and scrolled <= width, ("source page", width, scrolled)
        driver.get(service.base + "/")  # type: ignore[attr-defined]
        width, scrolled = page_width()
        assert width <= 390 and scrolled <= width, ("status page", width, scrolled)
        assert _statuses(driver) == {"projects/PRJ-0001.xlsx": "ok", "projects/PRJ-0002.xlsx": "invalid"}
        button = driver.find_element(By.ID, "sync-now")  # type: ignore[attr-defined]
        assert button.is_displayed() and button.rect["x"] + button.rect["width"] <= width
        labels = driver.execute_script(  # type: ignore[attr-defined]
            "return Array.from(document.querySelectorAll('#sources tbody tr:first-child td'))"
            ".map(td => getComputedStyle(td, '::before').content);")
        assert labels and all(label not in ("none", '""', "") for label in labels), labels
