"""The dashboard in a real browser (headless Chromium): every view, and one test per
action the issue lists (docs/dashboard.md). Each test also fails on any error in the
browser console (conftest.Browser.console_errors)."""
import glob
import os
import shutil
import subprocess
import time

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import API_KEY, READ_ONLY_KEY, Browser, seed_books

VIEWS = ["collections", "collection/books", "points/books", "search/books", "console", "snapshots", "metrics", "cluster"]


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_loads(browser, screenshots, view):
    browser.open("#/" + view)
    main = browser.driver.find_element(By.ID, "view")
    assert "Could not show this view" not in main.text
    assert main.find_elements(By.TAG_NAME, "h2"), "the view has a heading"
    current = browser.css("#nav a[aria-current=page]")
    assert len(current) == 1, "the nav marks exactly one current view"
    time.sleep(0.3)  # only so the screenshot shows finished drawing; nothing waits on it
    browser.screenshot(screenshots, view.replace("/", "-"))


def test_phone_sized_window_fits(make_browser, screenshots):
    page = make_browser(390, 844)
    page.open("#/collections")
    assert page.driver.execute_script("return window.innerWidth") == 390
    overflow = page.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at 390px wide"
    page.screenshot(screenshots, "phone-collections")


def test_sign_in_needs_a_valid_key_and_sign_out_forgets_it(browser):
    browser.expect_failed_requests("/access")
    browser.driver.get(f"{browser.server.url}/dashboard")
    browser.sign_in("wrong-key")
    browser.until(lambda: "refused" in browser.driver.find_element(By.ID, "view").text)
    browser.sign_in(API_KEY)
    browser.wait_view("collections")
    assert browser.driver.find_element(By.ID, "who").text == "full access"
    browser.driver.find_element(By.ID, "sign-out").click()
    browser.wait(By.ID, "login-key")
    assert browser.driver.execute_script("return sessionStorage.getItem('strata.apiKey')") is None


def test_collections_list_shows_points_status_and_disk(browser):
    browser.open("#/collections")
    row = browser.wait(By.CSS_SELECTOR, "[data-collection-row=books]")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "books"
    assert cells[1] in ("green", "yellow")
    assert cells[2] == "300"
    assert "4-d Cosine" in cells[5]
    assert cells[6].endswith("B") or "KiB" in cells[6], cells[6]


def test_create_collection_through_the_form(browser):
    browser.open("#/collections")
    d = browser.driver
    d.find_element(By.ID, "create-name").send_keys("from_form")
    row = d.find_element(By.CSS_SELECTOR, ".vector-row")
    size = row.find_element(By.NAME, "size")
    size.clear()
    size.send_keys("8")
    Select(row.find_element(By.NAME, "distance")).select_by_value("Dot")
    d.find_element(By.ID, "add-sparse").click()
    Select(d.find_element(By.CSS_SELECTOR, ".sparse-row [name=modifier]")).select_by_value("idf")
    Select(d.find_element(By.ID, "create-quantization")).select_by_value("scalar")
    preview = d.find_element(By.ID, "create-json").text
    assert preview.startswith("PUT /collections/from_form")
    assert '"distance": "Dot"' in preview and '"modifier": "idf"' in preview
    d.find_element(By.ID, "create-submit").click()
    browser.wait(By.CSS_SELECTOR, "[data-collection-row=from_form]")
    info = browser.server.call("GET", "/collections/from_form")
    assert info["config"]["params"]["vectors"]["size"] == 8
    assert info["config"]["params"]["vectors"]["distance"] == "Dot"
    assert info["config"]["params"]["sparse_vectors"]["text"]["modifier"] == "idf"
    assert "scalar" in info["config"]["quantization_config"]


def test_delete_collection_asks_first(browser):
    browser.server.call("PUT", "/collections/doomed", {"vectors": {"size": 2, "distance": "Dot"}})
    browser.open("#/collections")
    button = browser.wait(By.CSS_SELECTOR, "[data-action=delete-collection][data-collection=doomed]")
    button.click()
    browser.confirm(ok=False)
    assert browser.server.call("GET", "/collections/doomed/exists")["exists"] is True
    browser.wait(By.CSS_SELECTOR, "[data-action=delete-collection][data-collection=doomed]").click()
    browser.confirm(ok=True)
    browser.until(lambda: not browser.css("[data-collection-row=doomed]"))
    assert browser.server.call("GET", "/collections/doomed/exists")["exists"] is False


def test_aliases_create_and_delete(browser):
    browser.open("#/collections")
    d = browser.driver
    d.find_element(By.ID, "alias-name").send_keys("library")
    Select(d.find_element(By.ID, "alias-collection")).select_by_value("books")
    d.find_element(By.ID, "alias-submit").click()
    browser.wait(By.CSS_SELECTOR, "[data-action=delete-alias][data-alias=library]")
    aliases = browser.server.call("GET", "/aliases")["aliases"]
    assert {"alias_name": "library", "collection_name": "books"} in aliases
    browser.wait(By.CSS_SELECTOR, "[data-action=delete-alias][data-alias=library]").click()
    browser.confirm()
    browser.until(lambda: not browser.css("[data-alias=library]"))
    assert all(a["alias_name"] != "library" for a in browser.server.call("GET", "/aliases")["aliases"])


def test_lsm_view_shows_wal_and_segments_live(browser):
    browser.open("#/collection/books")
    table = browser.wait(By.ID, "segments-table")
    assert table.tag_name == "table"
    segment_rows = browser.css("#segments-table [data-segment]")
    assert segment_rows, "the seeded collection has an immutable segment"
    cells = [td.text for td in segment_rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[1] == "immutable"
    assert browser.css("#wal-files tbody tr"), "WAL files are listed"
    first = browser.driver.find_element(By.ID, "lsm-live").get_attribute("data-updated")
    # A write shows up in the mutable segment card without reloading the page.
    browser.server.call("PUT", "/collections/books/points?wait=true",
                        {"points": [{"id": 100000, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"city": "Rome"}}]})
    browser.until(lambda: browser.driver.find_element(By.ID, "lsm-live").get_attribute("data-updated") != first)
    browser.until(lambda: "points" in browser.driver.find_element(By.ID, "card-mutable").text)
    browser.server.call("POST", "/collections/books/points/delete?wait=true", {"points": [100000]})


def test_verify_button_reports_clean_and_damaged_segments(browser, server):
    seed_books(server, "fragile", points=120)
    browser.open("#/collection/fragile")
    browser.wait(By.ID, "verify").click()
    browser.until(lambda: browser.driver.find_element(By.ID, "verify-result").get_attribute("data-ok") == "true")
    assert "every checksum matches" in browser.driver.find_element(By.ID, "verify-result").text
    # Damage the segment's vector bytes on disk: verify must name the problem.
    files = glob.glob(os.path.join(server.data_dir, "collections", "fragile", "segments", "*"))
    segment = max(files, key=os.path.getsize)
    with open(segment, "r+b") as f:
        f.seek(4096)
        original = f.read(64)
        f.seek(4096)
        f.write(bytes(b ^ 0xFF for b in original))
    browser.driver.find_element(By.ID, "verify").click()
    browser.until(lambda: browser.driver.find_element(By.ID, "verify-result").get_attribute("data-ok") == "false")
    assert "Problems found" in browser.driver.find_element(By.ID, "verify-result").text
    server.call("DELETE", "/collections/fragile")


def test_payload_index_create_and_drop(browser):
    browser.open("#/collection/books")
    d = browser.driver
    d.find_element(By.ID, "index-field").send_keys("year")
    Select(d.find_element(By.ID, "index-type")).select_by_value("integer")
    d.find_element(By.CSS_SELECTOR, "#index-form button").click()
    browser.wait(By.CSS_SELECTOR, "[data-field-row=year]")
    assert browser.server.call("GET", "/collections/books")["payload_schema"]["year"]["data_type"] == "integer"
    browser.wait(By.CSS_SELECTOR, "[data-action=drop-index][data-field=year]").click()
    browser.confirm()
    browser.until(lambda: not browser.css("[data-field-row=year]"))
    assert "year" not in browser.server.call("GET", "/collections/books")["payload_schema"]


def test_points_filter_is_checked_by_the_server_as_you_type(browser):
    browser.expect_failed_requests("points/count")
    browser.open("#/points/books")
    d = browser.driver
    editor = d.find_element(By.ID, "filter")
    editor.send_keys('{"must": [{"key": "city", "match": {"valu": "Oslo"}}]}')
    browser.until(lambda: "refuses" in d.find_element(By.ID, "filter-status").text)
    editor.clear()
    editor.send_keys('{"must": [{"key": "city", "match": {"value": "Oslo"}}]}')
    browser.until(lambda: "75 point(s) match" in d.find_element(By.ID, "filter-status").text)
    d.find_element(By.ID, "scroll").click()
    browser.until(lambda: browser.css("#points-table [data-point]") and all(
        "Oslo" in row.text for row in browser.css("#points-table tbody tr")))
    d.find_element(By.ID, "tree-mode").click()
    browser.wait(By.ID, "points-tree")


def test_points_retrieve_show_vector_edit_payload_and_delete(browser):
    browser.server.call("PUT", "/collections/books/points?wait=true",
                        {"points": [{"id": 9001, "vector": [1, 0, 0, 0], "payload": {"title": "Edit me"}}]})
    browser.open("#/points/books")
    d = browser.driver
    d.find_element(By.ID, "retrieve-id").send_keys("9001")
    d.find_element(By.CSS_SELECTOR, "#retrieve-form button").click()
    row = browser.wait(By.CSS_SELECTOR, "#points-table [data-point='9001']")
    row.find_element(By.CSS_SELECTOR, "[data-action=show-vector]").click()
    browser.until(lambda: "[1" in d.find_element(By.CSS_SELECTOR, "[data-vector-of='9001']").text)
    row.find_element(By.CSS_SELECTOR, "[data-action=edit-payload]").click()
    editor = browser.wait(By.ID, "payload-editor")
    editor.clear()
    editor.send_keys('{"title": "Edited", "stars": 5}')
    d.find_element(By.CSS_SELECTOR, "#payload-form [type=submit]").click()
    browser.until(lambda: not browser.css("#payload-form"))
    stored = browser.server.call("POST", "/collections/books/points", {"ids": [9001], "with_payload": True})
    assert stored[0]["payload"] == {"title": "Edited", "stars": 5}
    d.find_element(By.ID, "retrieve-id").clear()
    d.find_element(By.ID, "retrieve-id").send_keys("9001")
    d.find_element(By.CSS_SELECTOR, "#retrieve-form button").click()
    browser.wait(By.CSS_SELECTOR, "#points-table [data-point='9001'] [data-action=delete-point]").click()
    browser.confirm()
    browser.until(lambda: browser.server.call("POST", "/collections/books/points", {"ids": [9001]}) == [])


def test_console_completes_runs_keeps_history_and_takes_pasted_tutorials(browser, screenshots):
    browser.open("#/console")
    d = browser.driver
    editor = d.find_element(By.ID, "console-editor")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys("GET collections/bo")
    browser.until(lambda: any(li.get_attribute("data-path") == "collections/books" for li in browser.css("#console-suggestions li")))
    editor.send_keys(Keys.TAB)
    assert d.execute_script("return document.getElementById('console-editor').value") == "GET collections/books"
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    browser.until(lambda: d.find_element(By.ID, "console-output").get_attribute("data-status") == "200")
    assert '"points_count"' in d.find_element(By.ID, "console-output").text
    browser.screenshot(screenshots, "console-run")
    # A tutorial from Qdrant's console, pasted as it is: two requests; run the second.
    tutorial = ('PUT collections/tutorial\n{\n  "vectors": {"size": 4, "distance": "Dot"}\n}\n\n'
                'PUT collections/tutorial/points?wait=true\n{"points": [{"id": 1, "vector": [0.05, 0.61, 0.76, 0.74], "payload": {"city": "Berlin"}}]}\n')
    d.execute_script("const e = document.getElementById('console-editor'); e.value = arguments[0]; e.setSelectionRange(5, 5);", tutorial)
    d.find_element(By.ID, "console-run").click()
    browser.until(lambda: browser.server.call("GET", "/collections/tutorial/exists")["exists"])
    d.execute_script("const e = document.getElementById('console-editor'); e.setSelectionRange(e.value.length - 3, e.value.length - 3);")
    d.find_element(By.ID, "console-run").click()
    browser.until(lambda: browser.server.call("POST", "/collections/tutorial/points/count", {"exact": True})["count"] == 1)
    history = [li.text for li in browser.css("#console-history li")]
    assert history[0].startswith("PUT /collections/tutorial/points?wait=true")
    # History survives a reload (localStorage).
    d.refresh()
    browser.wait_view("console")
    assert [li.text for li in browser.css("#console-history li")][:3] == history[:3]
    browser.server.call("DELETE", "/collections/tutorial")


def test_search_by_vector_by_id_and_recommend_with_projection(browser, screenshots):
    browser.open("#/search/books")
    d = browser.driver
    browser.wait(By.CSS_SELECTOR, "#projection-svg circle")
    d.find_element(By.ID, "search-vector").send_keys("[0.5, 0.1, -0.2, 0.3]")
    d.find_element(By.ID, "search-filter").send_keys('{"must": [{"key": "city", "match": {"value": "Paris"}}]}')
    d.find_element(By.ID, "search-run").click()
    browser.until(lambda: len(browser.css("#hits-table [data-hit]")) == 10)
    expected = browser.server.call("POST", "/collections/books/points/query", {
        "query": [0.5, 0.1, -0.2, 0.3], "limit": 10,
        "filter": {"must": [{"key": "city", "match": {"value": "Paris"}}]}})["points"]
    shown = [row.get_attribute("data-hit") for row in browser.css("#hits-table [data-hit]")]
    assert shown == [str(p["id"]) for p in expected]
    assert all("Paris" in row.text for row in browser.css("#hits-table tbody tr"))
    assert len(browser.css("#projection-svg rect.hit")) == 10
    assert browser.css("#projection-query")
    browser.screenshot(screenshots, "search-hits")
    Select(d.find_element(By.ID, "search-mode")).select_by_value("id")
    d.find_element(By.ID, "search-id").send_keys("5")
    d.find_element(By.ID, "search-filter").clear()
    d.find_element(By.ID, "search-run").click()
    browser.until(lambda: len(browser.css("#hits-table [data-hit]")) == 10 and browser.css("#hits-table [data-hit]")[0].get_attribute("data-hit") != shown[0])
    Select(d.find_element(By.ID, "search-mode")).select_by_value("recommend")
    d.find_element(By.ID, "search-positive").send_keys("1, 2")
    d.find_element(By.ID, "search-negative").send_keys("3")
    d.find_element(By.ID, "search-run").click()
    expected = browser.server.call("POST", "/collections/books/points/query",
                                   {"query": {"recommend": {"positive": [1, 2], "negative": [3]}}, "limit": 10})["points"]
    browser.until(lambda: [r.get_attribute("data-hit") for r in browser.css("#hits-table [data-hit]")] == [str(p["id"]) for p in expected])


def test_snapshots_create_verify_download_restore_delete(browser, server):
    seed_books(server, "shelf", points=50)
    browser.open("#/snapshots")
    panel = "[data-snapshots-of=shelf]"
    browser.wait(By.CSS_SELECTOR, f"{panel} [data-action=create-snapshot]").click()
    name = browser.wait(By.CSS_SELECTOR, f"{panel} [data-snapshot]").get_attribute("data-snapshot")
    assert [s["name"] for s in server.call("GET", "/collections/shelf/snapshots")] == [name]
    row = f"{panel} [data-snapshot='{name}']"

    def result():
        return browser.driver.find_element(By.CSS_SELECTOR, f"{row} .verify-result").get_attribute("data-ok")

    browser.wait(By.CSS_SELECTOR, f"{row} [data-action=verify]").click()
    browser.until(lambda: result() == "true")
    browser.wait(By.CSS_SELECTOR, f"{row} [data-action=download]").click()
    target = os.path.join(browser.download_dir, name)
    size = next(s["size"] for s in server.call("GET", "/collections/shelf/snapshots") if s["name"] == name)
    browser.until(lambda: os.path.exists(target) and os.path.getsize(target) == size, timeout=30)
    # Writes after the snapshot are undone by restoring it.
    server.call("POST", "/collections/shelf/points/delete?wait=true", {"points": list(range(10))})
    assert server.call("POST", "/collections/shelf/points/count", {"exact": True})["count"] == 40
    browser.wait(By.CSS_SELECTOR, f"{row} [data-action=restore]").click()
    browser.confirm()
    browser.until(lambda: server.call("POST", "/collections/shelf/points/count", {"exact": True})["count"] == 50)
    browser.wait(By.CSS_SELECTOR, f"{row} [data-action=delete]").click()
    browser.confirm()
    browser.until(lambda: not browser.css(row))
    assert server.call("GET", "/collections/shelf/snapshots") == []
    # Full-storage snapshots: take, verify, download, restore, delete.
    browser.wait(By.CSS_SELECTOR, "#full-snapshots [data-action=create-full-snapshot]").click()
    full = "#full-snapshots [data-snapshot]"
    full_name = browser.wait(By.CSS_SELECTOR, full).get_attribute("data-snapshot")
    browser.wait(By.CSS_SELECTOR, f"{full} [data-action=verify]").click()
    browser.until(lambda: browser.driver.find_element(By.CSS_SELECTOR, f"{full} .verify-result").get_attribute("data-ok") == "true",
                  timeout=60)
    browser.wait(By.CSS_SELECTOR, f"{full} [data-action=download]").click()
    full_size = server.call("GET", "/snapshots")[0]["size"]
    full_target = os.path.join(browser.download_dir, full_name)
    browser.until(lambda: os.path.exists(full_target) and os.path.getsize(full_target) == full_size, timeout=60)
    server.call("PUT", "/collections/after_full_snapshot", {"vectors": {"size": 2, "distance": "Dot"}})
    server.call("POST", "/collections/shelf/points/delete?wait=true", {"points": [10, 11]})
    browser.wait(By.CSS_SELECTOR, f"{full} [data-action=restore]").click()
    browser.confirm()
    browser.until(lambda: not server.call("GET", "/collections/after_full_snapshot/exists")["exists"], timeout=60)
    assert server.call("POST", "/collections/shelf/points/count", {"exact": True})["count"] == 50
    browser.wait(By.CSS_SELECTOR, f"{full} [data-action=delete]").click()
    browser.confirm()
    browser.until(lambda: not browser.css(full))
    assert server.call("GET", "/snapshots") == []
    server.call("DELETE", "/collections/shelf")


def test_metrics_charts_follow_the_server(browser, server, screenshots):
    browser.open("#/metrics")
    browser.until(lambda: int(browser.driver.find_element(By.ID, "charts").get_attribute("data-samples")) >= 2, timeout=30)
    for i in range(3):
        server.call("PUT", "/collections/books/points?wait=true",
                    {"points": [{"id": 50_000 + i * 10 + j, "vector": [0.1, 0.2, 0.3, j]} for j in range(10)]})
    browser.until(lambda: int(browser.driver.find_element(By.ID, "charts").get_attribute("data-samples")) >= 4, timeout=30)

    def latest(chart, series):
        return browser.driver.find_element(By.CSS_SELECTOR, f"#{chart} .legend[data-series={series}]").text

    browser.until(lambda: "no data" not in latest("chart-requests", "requests"))
    browser.until(lambda: "no data" not in latest("chart-latency", "p50"))
    browser.until(lambda: browser.css("#chart-ingest path[data-series=points]"))
    browser.until(lambda: browser.css("#chart-syncs path[data-series=syncs]"))
    browser.screenshot(screenshots, "metrics-live")
    server.call("POST", "/collections/books/points/delete?wait=true", {"points": [50_000 + k for k in range(30)]})


def test_cluster_view_on_a_single_node(browser):
    browser.open("#/cluster")
    assert browser.wait(By.ID, "cluster-disabled").text.startswith("Single node")
    assert browser.css("[data-cluster-of=books] tbody tr")


def test_cluster_view_on_three_nodes(make_browser, screenshots):
    from test_cluster import LocalCluster
    cluster = LocalCluster(nodes=3, extra=["--default-replication-factor", "2"])
    try:
        httpx.put(f"{cluster.url(0)}/collections/spread", json={"vectors": {"size": 2, "distance": "Dot"}, "shard_number": 3},
                  timeout=60).raise_for_status()
        page = make_browser(1280, 800)
        page.server = type("Node", (), {"url": cluster.url(0)})()
        page.open("#/cluster", key=None)
        rows = page.css("#peers-table [data-peer]")
        assert len(rows) == 3
        assert sum("(this node)" in r.text for r in rows) == 1
        shard_rows = page.css("[data-cluster-of=spread] tbody tr")
        assert len(shard_rows) == 6, "3 shards × 2 replicas"
        assert all("Active" in r.text for r in shard_rows)
        page.screenshot(screenshots, "cluster-3-nodes")
        # The collection's storage view: one LSM block per shard; verify checks all six replicas.
        httpx.put(f"{cluster.url(0)}/collections/spread/points?wait=true", timeout=60, json={
            "points": [{"id": i, "vector": [1.0, i / 100]} for i in range(300)]}).raise_for_status()
        page.open("#/collection/spread", key=None)
        page.until(lambda: len(page.css("[data-shard]")) == 3, message="a storage block per shard")
        # The view redraws every 2 s: look the elements up inside `until`, which retries stale ones.
        page.until(lambda: [s.get_attribute("data-shard") for s in page.css("[data-shard]")] == ["0", "1", "2"])
        page.until(lambda: all("points" in page.driver.find_element(By.ID, f"card-mutable-shard-{i}").text
                               and page.css(f"#wal-files-shard-{i} tbody tr") for i in range(3)),
                   message="each shard's mutable segment and WAL files")
        page.driver.find_element(By.ID, "verify").click()
        page.until(lambda: page.driver.find_element(By.ID, "verify-result").get_attribute("data-ok") == "true")
        page.open("#/collections", key=None)
        page.until(lambda: page.css("[data-collection-row=spread]")[0].find_elements(By.TAG_NAME, "td")[6].text
                   not in ("", "–"), message="the disk size of a sharded collection is shown")
    finally:
        cluster.stop()


def test_read_only_key_shows_no_write_actions(browser):
    browser.open("#/collections", key=READ_ONLY_KEY)
    assert browser.driver.find_element(By.ID, "who").text == "read-only"
    write_controls = ["#create-form", "#alias-form", "[data-action=delete-collection]", "[data-action=delete-alias]"]
    assert not any(browser.css(c) for c in write_controls)
    browser.open("#/collection/books", key=READ_ONLY_KEY)
    assert not browser.css("#index-form") and not browser.css("[data-action=drop-index]")
    assert browser.css("#verify"), "verifying is a read"
    browser.open("#/points/books", key=READ_ONLY_KEY)
    browser.wait(By.CSS_SELECTOR, "#points-table [data-point]")
    assert browser.css("[data-action=show-vector]")
    assert not browser.css("[data-action=edit-payload]") and not browser.css("[data-action=delete-point]")
    browser.open("#/snapshots", key=READ_ONLY_KEY)
    assert not any(browser.css(c) for c in ["[data-action=create-snapshot]", "[data-action=restore]", "[data-action=delete]",
                                            "#full-snapshots"])
    browser.open("#/metrics", key=READ_ONLY_KEY)
    browser.wait(By.ID, "charts")


def test_keyboard_only_walk(browser):
    browser.open("#/collections")
    d = browser.driver
    actions = ActionChains(d)

    def press(*keys):
        # perform() returns once the keys are dispatched; focus moves synchronously.
        for key in keys:
            actions.send_keys(key)
        actions.perform()

    def focused():
        return d.switch_to.active_element

    # Tab reaches the skip link first, then the nav; Enter on a nav link opens its view and moves focus to it.
    press(Keys.TAB)
    assert focused().text == "Skip to content"
    seen = []
    for _ in range(12):
        press(Keys.TAB)
        seen.append(focused().text)
        if focused().text == "Console":
            break
    assert "Points" in seen and "Search" in seen and seen[-1] == "Console"
    press(Keys.ENTER)
    browser.wait_view("console")
    assert focused().get_attribute("id") == "view"
    # From the view, Tab reaches the editor; typing and Ctrl+Enter runs a request.
    for _ in range(10):
        press(Keys.TAB)
        if focused().get_attribute("id") == "console-editor":
            break
    assert focused().get_attribute("id") == "console-editor"
    focused().send_keys(Keys.CONTROL, "a")
    focused().send_keys(Keys.DELETE)
    focused().send_keys("GET collections")
    focused().send_keys(Keys.CONTROL, Keys.ENTER)
    browser.until(lambda: d.find_element(By.ID, "console-output").get_attribute("data-status") == "200")
    # The confirmation dialog works from the keyboard: Escape cancels.
    browser.server.call("PUT", "/collections/keyboard", {"vectors": {"size": 2, "distance": "Dot"}})
    browser.open("#/collections")
    button = browser.wait(By.CSS_SELECTOR, "[data-action=delete-collection][data-collection=keyboard]")
    d.execute_script("arguments[0].focus()", button)
    press(Keys.ENTER)
    browser.until(lambda: d.execute_script("return document.getElementById('confirm').open"))
    assert focused().get_attribute("id") == "confirm-cancel"
    press(Keys.ESCAPE)
    browser.until(lambda: not d.execute_script("return document.getElementById('confirm').open"))
    assert browser.server.call("GET", "/collections/keyboard/exists")["exists"]
    d.execute_script("arguments[0].focus()", browser.wait(By.CSS_SELECTOR, "[data-action=delete-collection][data-collection=keyboard]"))
    press(Keys.ENTER)
    browser.until(lambda: d.execute_script("return document.getElementById('confirm').open"))
    press(Keys.TAB, Keys.ENTER)
    browser.until(lambda: not browser.server.call("GET", "/collections/keyboard/exists")["exists"])


def test_scoped_token_sees_its_collections_and_writes_only_where_granted(browser, server):
    import base64, hashlib, hmac, json as js

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    seed_books(server, "journal", points=20)
    header = b64(js.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(js.dumps({"access": [{"collection": "books", "access": "r"},
                                      {"collection": "journal", "access": "rw"}]}).encode())
    signature = b64(hmac.new(API_KEY.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
    token = f"{header}.{claims}.{signature}"
    browser.open("#/collections", key=token)
    assert browser.driver.find_element(By.ID, "who").text == "access to books (r), journal (rw)"
    names = [row.get_attribute("data-collection-row") for row in browser.css("[data-collection-row]")]
    assert sorted(names) == ["books", "journal"]
    assert not browser.css("#create-form") and not browser.css("[data-action=delete-collection]")
    browser.open("#/points/books", key=token)
    browser.wait(By.CSS_SELECTOR, "#points-table [data-point]")
    assert not browser.css("[data-action=edit-payload]")
    browser.open("#/points/journal", key=token)
    browser.wait(By.CSS_SELECTOR, "#points-table [data-point] [data-action=edit-payload]")
    browser.open("#/collection/journal", key=token)
    assert browser.css("#index-form")
    browser.open("#/metrics", key=token)
    assert "global read access" in browser.driver.find_element(By.ID, "view").text
    server.call("DELETE", "/collections/journal")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
def test_dashboard_behind_tls(tmp_path):
    from conftest import Server, chrome
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    server = Server("--tls-cert", str(cert), "--tls-key", str(key), scheme="https")
    driver = chrome(str(tmp_path), extra=["--ignore-certificate-errors"])
    try:
        server.call("PUT", "/collections/secure", {"vectors": {"size": 2, "distance": "Dot"}})
        page = Browser(driver, server, str(tmp_path))
        page.open("#/collections")
        assert page.wait(By.CSS_SELECTOR, "[data-collection-row=secure]")
        assert driver.current_url.startswith("https://localhost:")
        errors = page.console_errors()
        assert not errors, errors
    finally:
        driver.quit()
        assert server.stop() == 0
