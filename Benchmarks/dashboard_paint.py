"""First paint of the dashboard on loopback (issue 18: measured and reported, not asserted).

Starts `strata serve` (STRATA_BIN, default the release build) with no API key on a
fresh data directory holding one 1,000-point collection, then loads /dashboard in
headless Chromium (Debian's, through /usr/bin/chromedriver) N times, each in a new
tab with an empty cache, and reports the browser's own numbers: first paint and first
contentful paint (Paint Timing API), and the time until the Collections view has
drawn its table from the REST calls (`main[data-ready=true]`, measured from
navigation start in the page).

    .venv-client/bin/python Benchmarks/dashboard_paint.py [--runs 20]
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "dashboard"))
from conftest import chrome, free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    binary = os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata"))
    directory = tempfile.mkdtemp(prefix="strata-paint-")
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--data-dir", os.path.join(directory, "data"), "--port", str(port),
                               "--grpc-port", str(free_port(avoid={port}))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        httpx.put(url + "/collections/demo", json={"vectors": {"size": 8, "distance": "Cosine"}}).raise_for_status()
        rng = random.Random(1)
        points = [{"id": i, "vector": [rng.random() for _ in range(8)], "payload": {"n": i}} for i in range(1000)]
        httpx.put(url + "/collections/demo/points?wait=true", json={"points": points}, timeout=60).raise_for_status()
        downloads = tempfile.mkdtemp()
        driver = chrome(downloads)
        first_paint, contentful, ready = [], [], []
        try:
            driver.get(url + "/dashboard")  # warm the server's code paths once; not counted
            for _ in range(args.runs):
                driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                driver.get("about:blank")
                driver.get(url + "/dashboard")
                for _ in range(400):
                    done = driver.execute_script(
                        "const m = document.getElementById('view');"
                        "return m && m.dataset.ready === 'true' && m.dataset.view === 'collections'")
                    if done:
                        break
                    time.sleep(0.005)
                ready_at = driver.execute_script("return performance.now()")
                paints = driver.execute_script(
                    "return Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]))")
                first_paint.append(paints.get("first-paint", float("nan")))
                contentful.append(paints.get("first-contentful-paint", float("nan")))
                ready.append(ready_at)
        finally:
            driver.quit()
            shutil.rmtree(downloads, ignore_errors=True)
        for label, values in [("first paint", first_paint), ("first contentful paint", contentful),
                              ("collections table drawn (upper bound, polled)", ready)]:
            ordered = sorted(values)
            print(f"{label}: median {statistics.median(ordered):.1f} ms, p90 {ordered[int(0.9 * (len(ordered) - 1))]:.1f} ms, "
                  f"min {ordered[0]:.1f} ms over {len(ordered)} loads")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
