"""Fixtures for the dashboard's browser tests (docs/dashboard.md).

A real `strata serve` ($STRATA_BIN, or the newest .build*/debug/strata) with an
API key and a read-only key, seeded with data over REST, driven by Debian's
headless Chromium through Selenium and Debian's chromedriver
(/usr/bin/chromedriver: nothing is downloaded; SE_OFFLINE keeps Selenium
Manager from trying).

Every test ends by reading the browser console: any error the page logged
(a script error, a refused script or style, an unexpected failed request)
fails the test. Tests that provoke an error answer on purpose declare it
with `browser.expect_failed_requests(...)`.

Screenshots go to $STRATA_SCREENSHOTS (default: a temporary directory, printed).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tests", "client"))
from processes import free_port, strata_binary  # noqa: E402
API_KEY = "dashboard-test-key"
READ_ONLY_KEY = "dashboard-read-only-key"
os.environ.setdefault("SE_OFFLINE", "true")


class Server:
    """`strata serve` on a free loopback port with a fresh data directory."""

    def __init__(self, *extra: str, scheme: str = "http"):
        self.dir = tempfile.mkdtemp(prefix="strata-dashboard-test-")
        self.data_dir = os.path.join(self.dir, "data")
        self.port = free_port()
        grpc_port = free_port(avoid={self.port})
        self.url = f"{scheme}://{'localhost' if scheme == 'https' else '127.0.0.1'}:{self.port}"
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.process = subprocess.Popen(
            [strata_binary(), "serve", "--data-dir", self.data_dir, "--port", str(self.port),
             "--grpc-port", str(grpc_port), "--api-key", API_KEY, "--read-only-api-key", READ_ONLY_KEY, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.url, headers={"api-key": API_KEY}, timeout=60, verify=False)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"strata serve exited with {self.process.returncode}; log {self.log.name}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1, verify=False).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("strata serve did not become ready in 30 s")

    def call(self, method: str, path: str, body=None, expect=200):
        response = self.http.request(method, path, json=body)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json().get("result") if response.headers.get("content-type", "").startswith("application/json") else response.text

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


def seed_books(server: Server, name: str = "books", points: int = 300):
    """A 4-d collection with payloads, a keyword index, and at least one immutable segment."""
    server.call("PUT", f"/collections/{name}", {
        "vectors": {"size": 4, "distance": "Cosine"},
        "optimizers_config": {"flush_interval_sec": 1},
    })
    cities = ["Berlin", "Paris", "Lisbon", "Oslo"]
    rng = random.Random(7)
    batch = [{"id": i, "vector": [rng.uniform(-1, 1) for _ in range(4)],
              "payload": {"city": cities[i % 4], "year": 1950 + i % 70, "title": f"Book {i}"}} for i in range(points)]
    server.call("PUT", f"/collections/{name}/points?wait=true", {"points": batch})
    server.call("PUT", f"/collections/{name}/index?wait=true", {"field_name": "city", "field_schema": "keyword"})
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.call("GET", f"/collections/{name}/storage")["segments"]:
            return
        time.sleep(0.2)
    raise AssertionError("the optimizer wrote no segment in 60 s")


@pytest.fixture(scope="session")
def server():
    srv = Server()
    seed_books(srv)
    yield srv
    code = srv.stop()
    assert code == 0, f"strata serve exited with {code}; log {srv.log.name}"
    shutil.rmtree(srv.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots():
    directory = os.environ.get("STRATA_SCREENSHOTS") or tempfile.mkdtemp(prefix="strata-dashboard-shots-")
    os.makedirs(directory, exist_ok=True)
    print(f"\ndashboard screenshots: {directory}")
    return directory


def chrome(download_dir: str, width: int = 1280, height: int = 800, extra=()):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--disable-extensions", "--no-first-run", *extra]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                              "download.prompt_for_download": False})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


class Browser:
    """The page under test, with helpers that wait for what the page does."""

    def __init__(self, driver, server: Server, download_dir: str):
        self.driver = driver
        self.server = server
        self.download_dir = download_dir
        self.allowed_failures: list[str] = []

    def expect_failed_requests(self, *fragments: str):
        """Failed requests whose console lines contain one of `fragments` are expected."""
        self.allowed_failures.extend(fragments)

    def open(self, hash_: str = "#/collections", key: str | None = API_KEY, wait_view: str | None = None):
        """Opens a view signed in with `key`. The key is put in the tab's sessionStorage
        first (from one of the dashboard's own files, same origin), as signing in does,
        so the page never sends a request without it (test_sign_in covers the form)."""
        if key is not None:
            stored = None
            if self.driver.current_url.startswith(self.server.url):
                stored = self.driver.execute_script("return sessionStorage.getItem('strata.apiKey')")
            if stored != key:
                self.driver.get(f"{self.server.url}/dashboard/dashboard.css")
                self.driver.execute_script("sessionStorage.setItem('strata.apiKey', arguments[0])", key)
        self.driver.get(f"{self.server.url}/dashboard{hash_}")
        view = wait_view or (hash_.lstrip("#/").split("/")[0] or "collections")
        self.wait_view(view)

    def sign_in(self, key: str):
        field = self.wait(By.ID, "login-key")
        field.clear()
        field.send_keys(key)
        self.driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()

    def wait_view(self, view: str, timeout: float = 20):
        WebDriverWait(self.driver, timeout).until(
            lambda d: d.execute_script(
                "const m = document.getElementById('view'); return m.dataset.view === arguments[0] && m.dataset.ready === 'true'",
                view))

    def wait(self, by, value, timeout: float = 20, visible: bool = True):
        condition = EC.visibility_of_element_located if visible else EC.presence_of_element_located
        return WebDriverWait(self.driver, timeout).until(condition((by, value)))

    def until(self, predicate, timeout: float = 20, message: str = ""):
        """Waits for `predicate()`; elements a view redrew in between are looked up again."""
        return WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: predicate(), message)

    def css(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def confirm(self, ok: bool = True):
        dialog = self.wait(By.ID, "confirm")
        dialog.find_element(By.ID, "confirm-ok" if ok else "confirm-cancel").click()
        self.until(lambda: not self.driver.execute_script("return document.getElementById('confirm').open"))

    def console_errors(self):
        errors = []
        for entry in self.driver.get_log("browser"):
            if entry["level"] != "SEVERE":
                continue
            if entry.get("source") == "network" and any(f in entry["message"] for f in self.allowed_failures):
                continue
            errors.append(entry)
        return errors

    def screenshot(self, directory: str, name: str):
        path = os.path.join(directory, f"{name}.png")
        self.driver.save_screenshot(path)
        return path


@pytest.fixture
def browser(server):
    download_dir = tempfile.mkdtemp(prefix="strata-dashboard-downloads-")
    driver = chrome(download_dir)
    page = Browser(driver, server, download_dir)
    try:
        yield page
        errors = page.console_errors()
        assert not errors, "the browser console has errors:\n" + json.dumps(errors, indent=1)
    finally:
        driver.quit()
        shutil.rmtree(download_dir, ignore_errors=True)


@pytest.fixture
def make_browser(server):
    """Browsers of other window sizes (closed at the end of the test, console checked)."""
    made = []

    def make(width: int, height: int):
        download_dir = tempfile.mkdtemp(prefix="strata-dashboard-downloads-")
        driver = chrome(download_dir, width, height)
        # Headless Chromium keeps windows at least 500 px wide: a phone's viewport is emulated.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700})
        page = Browser(driver, server, download_dir)
        made.append(page)
        return page

    yield make
    for page in made:
        errors = page.console_errors()
        page.driver.quit()
        assert not errors, "the browser console has errors:\n" + json.dumps(errors, indent=1)


# The cluster test starts a real 3-node cluster with the client suite's LocalCluster
# (Tests/client/test_cluster.py), which imports TRANSPORT and strata_binary from `conftest`.
TRANSPORT = "rest"
