"""The step-through page in a real headless browser (Debian's Chromium, driven by Selenium
through chromedriver): it loads showing frame 1, and Next / the arrow keys / the slider move
to other frames with a new caption and a new SVG.

Skipped only when Chromium itself is not installed (``make browser`` installs it with
chromium-driver). No network: the page is a local file and chromedriver is a local binary.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

import autograd_rnn as ar
from autograd_rnn.viz.trace import trace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_SECONDS = 20

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (run `make browser` to install it)"
)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMEDRIVER).exists():
        pytest.fail(
            f"Chromium is at {CHROMIUM} but chromedriver is missing: "
            "apt-get install chromium-driver (or `make browser`)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="trace-chromium-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    x = ar.tensor([[1.0, -2.0]], requires_grad=True, name="x_1")
    W = ar.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True, name="W_h")
    with trace() as tape:
        with ar.scope("rnn/t=1"):
            h = (x @ W).tanh()
            h.name = "h_1"
        loss = (h * h).sum()
        loss.name = "L"
        loss.backward()
    path = tape.to_html(tmp_path_factory.mktemp("page") / "steps.html", title="browser test")
    return path, [f.caption for f in tape.frames()]


def _state(driver):
    from selenium.webdriver.common.by import By

    stage = driver.find_element(By.ID, "stage")
    return {
        "counter": driver.find_element(By.ID, "counter").text,
        "caption": driver.find_element(By.ID, "caption").text,
        "svg": stage.get_attribute("innerHTML"),
        "frame": stage.get_attribute("data-frame"),
        "slider": driver.find_element(By.ID, "slider").get_attribute("value"),
    }


def test_page_loads_and_next_changes_the_frame(browser, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    path, captions = page
    n = len(captions)
    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda d: d.find_element(By.ID, "counter").text != ""
    )
    first = _state(browser)
    assert first["counter"] == f"frame 1 / {n}"
    assert first["caption"] == captions[0]
    assert first["svg"].lstrip().startswith("<svg") and first["frame"] == "0"
    assert not browser.find_element(By.ID, "prev").is_enabled()

    browser.find_element(By.ID, "next").click()
    second = _state(browser)
    assert second["counter"] == f"frame 2 / {n}"
    assert second["caption"] == captions[1] != first["caption"]
    assert second["svg"] != first["svg"] and second["slider"] == "1"
    assert browser.find_element(By.ID, "prev").is_enabled()

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _state(browser)["counter"] == f"frame 3 / {n}"
    browser.find_element(By.ID, "prev").click()
    browser.find_element(By.ID, "prev").click()
    assert _state(browser) == first

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    last = _state(browser)
    assert last["counter"] == f"frame {n} / {n}" and last["caption"] == captions[-1]
    assert last["caption"].startswith("backward:")
    assert not browser.find_element(By.ID, "next").is_enabled()


def test_slider_jumps_to_a_frame(browser, page):
    from selenium.webdriver.common.by import By

    path, captions = page
    browser.get(path.resolve().as_uri())
    slider = browser.find_element(By.ID, "slider")
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        slider,
        4,
    )
    state = _state(browser)
    assert state["counter"] == f"frame 5 / {len(captions)}"
    assert state["caption"] == captions[4]
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], f"JavaScript errors on the page: {errors}"
