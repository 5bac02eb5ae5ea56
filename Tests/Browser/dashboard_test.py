#!/usr/bin/env python3
"""The dashboard and the html report in a real browser (issue 13, acceptance 2-4).

Builds a ledger with the `cairn` binary given, serves it with `cairn serve`, and drives headless
Chromium through Selenium (Debian `chromium` + `chromium-driver`, PyPI `selenium`):

- signs in with an `audit` token; opens every view; checks that every figure the page shows
  (`data-stat` / `data-value`) equals the stats API's (`GET /v1/stats/<view>`) and the other way round;
- follows a figure's drill-down to the records it counts, opens a record, downloads its proof bundle
  and verifies it with `cairn verify` and the ledger's vkey;
- checks that every page carries the Content-Security-Policy and that no request leaves the origin;
- signs in with a `read` token and checks that the admin page is refused and not linked;
- writes `cairn report --format html`, opens it offline (no request at all besides the file), and
  verifies its signed manifest against the ledger.

With --screenshots DIR it saves one PNG per view there (docs/dashboard/ in the repository).
Exits 0 when everything holds; prints what failed otherwise.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

VIEWS = ["overview", "ai-share", "sensitive", "requesters", "models", "gaps", "cost", "health"]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message, file=sys.stderr)
    return condition


def run(cairn, args, env, **kwargs):
    result = subprocess.run([cairn] + args, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"cairn {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def records(seed=13):
    """A few hundred checkpoints over twelve weeks in three repositories, with reviews, tests, deploys,
    a correction, and labels that must be shown as text (markup, a formula, a control character)."""
    rnd = random.Random(seed)
    people = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
              "<script>alert(1)</script>@example.com", "=HYPERLINK(\"http://evil\")"]
    repos = ["git@example.com:pay/client.git", "git@example.com:web/app.git", "ops/infra"]
    models = [("claude-sonnet-4-5", "20250929"), ("gpt-5", "2025-08-07"), ("gemini-2.5-pro", "001")]
    paths = ["src/auth/session.ts", "src/ui/button.tsx", "infra/main.tf", "lib/payment/charge.go", "README.md"]
    lines = []
    start = time.mktime(time.strptime("2026-09-07", "%Y-%m-%d"))
    for n in range(400):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rnd.randrange(12 * 7 * 86400)))
        model, version = rnd.choice(models)
        checkpoint = {
            "type": "checkpoint", "schema": 1, "id": f"cp-{n}", "timestamp": when,
            "requested_by": rnd.choice(people), "tool_path": rnd.choice(["ide", "cli", "agent", "ci"]),
            "model": {"id": model, "version": version, "provider": "p"}, "prompt": f"change {n}",
            "work_item": f"PAY-{rnd.randrange(1, 12)}",
            "cost": {"input_tokens": rnd.randrange(9000), "output_tokens": rnd.randrange(900),
                     "usd": rnd.randrange(100000) / 10000},
            "outputs": [{
                "repo": rnd.choice(repos), "commit": f"{n:040x}", "path": rnd.choice(paths),
                "ranges": [[1, rnd.randrange(2, 80)]], "content_hash": "sha256:" + "c" * 64,
                "contributor": rnd.choice(["ai", "ai", "mixed", "human"]),
            }],
        }
        if rnd.randrange(8) == 0:
            checkpoint["x_capture"] = {"grade": "attested"}
        lines.append(checkpoint)
        if rnd.randrange(3):
            lines.append({"type": "review", "schema": 1, "subject": f"cp-{n}", "reviewer": rnd.choice(people[:4]),
                          "decision": rnd.choice(["approved", "approved", "changes_requested", "rejected"]),
                          "at": when})
        if rnd.randrange(2):
            lines.append({"type": "test", "schema": 1, "subject": f"cp-{n}",
                          "result": rnd.choice(["passed", "failed"]), "at": when})
        if rnd.randrange(3) == 0:
            lines.append({"type": "deploy", "schema": 1, "subject": f"cp-{n}", "git_commit": "f" * 40,
                          "branch": "main", "environment": "production", "at": when})
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, path, token):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def display_escape(text):
    """What the page does to a control character in an id (specs/record-schema.md §11): U+001F is \\u{1F}."""
    out = ""
    for ch in text:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            out += "\\u{%02X}" % code
        else:
            out += ch
    return out


def api_figures(document):
    """view/section/row/column -> the JSON text of each cell's value, as the page's data-value holds it."""
    out = {}
    for section in document["sections"]:
        for row in section["rows"]:
            for column, cell in zip(section["columns"], row["cells"]):
                value = cell.get("value")
                text = "null" if value is None else json.dumps(value)
                out[display_escape(f"{document['view']}/{section['id']}/{row['id']}/{column['id']}")] = text
    return out


# Figures that change between the page and the API call because reading them is itself recorded.
MOVING = ("health/ledger/access_log/", "health/ledger/access_log_day/")


def page_figures(driver):
    return {e.get_attribute("data-stat"): e.get_attribute("data-value")
            for e in driver.find_elements(By.CSS_SELECTOR, "[data-stat]")}


def same_number(a, b):
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,900", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def network(driver):
    """The performance log's requests and responses since the last call."""
    requests, responses = [], []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.responseReceived":
            responses.append(message["params"]["response"])
    return requests, responses


def screenshot(driver, path):
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1366, min(max(height, 600), 4000))
    driver.save_screenshot(path)
    driver.set_window_size(1366, 900)


def sign_in(driver, base, token):
    driver.get(base + "/ui/")
    check("/ui/sign-in" in driver.current_url, f"a signed-out visit to /ui/ goes to sign-in, not {driver.current_url}")
    field = driver.find_element(By.ID, "token")
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    settled(driver, lambda d: "sign-in" not in d.current_url)
    check(driver.current_url.rstrip("/").endswith("/ui"), f"sign-in leads to the overview, not {driver.current_url}")
    check(token not in driver.current_url, "the token never appears in a URL")


def sign_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form[action='/ui/sign-out'] button").click()
    settled(driver, lambda d: "sign-in" in d.current_url)


def settled(driver, condition, seconds=20):
    """Waits until a navigation started by a click has loaded (`condition` holds and the page is complete)."""
    try:
        WebDriverWait(driver, seconds).until(
            lambda d: condition(d) and d.execute_script("return document.readyState") == "complete")
    except Exception:
        pass  # the caller's check reports what the page is


def wait_for(path, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload"):
            return True
        time.sleep(0.2)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cairn", required=True)
    parser.add_argument("--screenshots")
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    cairn = os.path.abspath(arguments.cairn)
    work = tempfile.mkdtemp(prefix="cairn-browser-")
    ledger = os.path.join(work, "ledger")
    env = dict(os.environ, CAIRN_LEDGER=ledger)
    run(cairn, ["init", "--origin", "example.com/dashboard"], env)
    with open(os.path.join(work, "records.jsonl"), "w") as f:
        f.write(records())
    run(cairn, ["import", os.path.join(work, "records.jsonl")], env)
    # A correction: the record of cp-0 names another requester.
    first = json.loads(run(cairn, ["query", "--json", "--limit", "1"], env))[0]
    correction = {"type": "correction", "schema": 1, "corrects": first["digest"], "author": "fixer@example.com",
                  "reason": "the hook recorded the wrong requester", "patch": {"requested_by": "erin@example.com"}}
    run(cairn, ["append"], env, input=json.dumps(correction) + "\n")
    audit = json.loads(run(cairn, ["token", "create", "--role", "audit", "--name", "browser-audit", "--json"], env))
    read = json.loads(run(cairn, ["token", "create", "--role", "read", "--name", "browser-read", "--json"], env))
    vkey = os.path.join(ledger, "ledger.vkey")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([cairn, "serve", "--listen", f"127.0.0.1:{port}", "--rate-limit", "0",
                               "--log-level", "error"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "serve.log"), "w"))
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads)
    driver = None
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        driver = browser(downloads)
        sign_in(driver, base, audit["token"])

        # Every view: the figures shown are the API's, exactly.
        for view in VIEWS:
            driver.get(base + ("/ui/" if view == "overview" else "/ui/" + view))
            shown = page_figures(driver)
            expected = api_figures(api(base, f"/v1/stats/{view}", audit["token"]))
            check(len(shown) > 0, f"{view}: the page shows figures")
            check(set(shown) == set(expected),
                  f"{view}: the page and the API list different figures: "
                  f"{sorted(set(shown) ^ set(expected))[:5]}")
            for stat, value in expected.items():
                if stat in shown and not stat.startswith(MOVING):
                    check(same_number(shown[stat], value), f"{stat}: page {shown[stat]} != API {value}")
            check(driver.find_elements(By.TAG_NAME, "script") == [], f"{view}: no script element")
            if arguments.screenshots:
                screenshot(driver, os.path.join(arguments.screenshots, f"dashboard-{view}.png"))
        # Hostile labels are text: the requesters view shows the markup as characters.
        driver.get(base + "/ui/requesters")
        check("<script>alert(1)</script>@example.com" in driver.find_element(By.TAG_NAME, "main").text,
              "a requester named with markup is shown as text")

        # A drill-down: the unreviewed changes of the gaps view, one record, its proof.
        driver.get(base + "/ui/gaps")
        link = driver.find_element(By.CSS_SELECTOR, "td[data-stat='gaps/by-repo//unreviewed'] a")
        figure = int(float(link.find_element(By.XPATH, "..").get_attribute("data-value")))
        link.click()
        settled(driver, lambda d: "/ui/records?" in d.current_url)
        check("/ui/records?" in driver.current_url, f"the figure links to its records: {driver.current_url}")
        rows = driver.find_elements(By.CSS_SELECTOR, "main table tbody tr")
        check(len(rows) == figure, f"the drill-down lists {len(rows)} records for a figure of {figure}")
        rows[0].find_element(By.CSS_SELECTOR, "a").click()
        settled(driver, lambda d: "/ui/records/" in d.current_url)
        check("/ui/records/" in driver.current_url, f"a record opens: {driver.current_url}")
        proof = driver.find_element(By.CSS_SELECTOR, "section.proof a[download]")
        name = proof.get_attribute("download")
        proof.click()
        check(wait_for(os.path.join(downloads, name)), f"the proof bundle {name} downloads")
        command = driver.find_element(By.CSS_SELECTOR, "section.proof pre.command").text.split()
        check(command[:2] == ["cairn", "verify"], f"the record page shows a verify command: {command}")
        argv = [os.path.join(downloads, a) if a.startswith("entry-") else (vkey if a == "ledger.vkey" else a)
                for a in command[1:]]
        verified = subprocess.run([cairn] + argv, capture_output=True, text=True)
        check(verified.returncode == 0, f"cairn {' '.join(command[1:])}: {verified.stdout}{verified.stderr}")
        # A review's page offers the tlog-proof and the entry: both download and verify too.
        driver.get(base + "/ui/records?type=review&limit=1")
        driver.find_element(By.CSS_SELECTOR, "main table tbody tr a").click()
        settled(driver, lambda d: "/ui/records/" in d.current_url)
        links = driver.find_elements(By.CSS_SELECTOR, "section.proof a[download]")
        for link in links:
            link.click()
            check(wait_for(os.path.join(downloads, link.get_attribute("download"))),
                  f"{link.get_attribute('download')} downloads")
        command = driver.find_element(By.CSS_SELECTOR, "section.proof pre.command").text.split()
        argv = [os.path.join(downloads, a) if a.startswith("entry-") else (vkey if a == "ledger.vkey" else a)
                for a in command[1:]]
        verified = subprocess.run([cairn] + argv, capture_output=True, text=True)
        check(verified.returncode == 0, f"cairn {' '.join(command[1:])}: {verified.stdout}{verified.stderr}")

        # The audit token sees the access log.
        driver.get(base + "/ui/admin/access-log")
        check(driver.find_elements(By.CSS_SELECTOR, "nav a[href='/ui/admin/access-log']") != [],
              "an audit token sees the access-log link")
        check("Access log" in driver.title, f"an audit token opens the access log: {driver.title}")
        if arguments.screenshots:
            screenshot(driver, os.path.join(arguments.screenshots, "dashboard-access-log.png"))

        # Every response of the origin carries the CSP; nothing was requested from anywhere else.
        requests, responses = network(driver)
        for url in requests:
            check(url.startswith(base + "/") or url.startswith("data:"), f"a request left the origin: {url}")
        pages = [r for r in responses if r["url"].startswith(base + "/ui")]
        check(len(pages) > len(VIEWS), f"the browser's responses were logged ({len(pages)})")
        for response in pages:
            headers = {k.lower(): v for k, v in response["headers"].items()}
            csp = headers.get("content-security-policy", "")
            check("default-src 'none'" in csp and "script-src" not in csp,
                  f"{response['url']}: Content-Security-Policy {csp!r}")

        # A read token: the views, but no admin page and no link to it.
        sign_out(driver)
        sign_in(driver, base, read["token"])
        check(driver.find_elements(By.CSS_SELECTOR, "a[href='/ui/admin/access-log']") == [],
              "a read token sees no access-log link")
        driver.get(base + "/ui/admin/access-log")
        check("403" in driver.title or "403" in driver.find_element(By.TAG_NAME, "body").text,
              f"a read token is refused the access log: {driver.title}")
        check("Access log" not in driver.title, "a read token does not see the access log")
        driver.get(base + "/ui/gaps")
        check(len(page_figures(driver)) > 0, "a read token sees the views")
        sign_out(driver)
        driver.get(base + "/ui/gaps")
        check("/ui/sign-in" in driver.current_url, "after signing out, the views need a sign-in again")
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The offline report: opens with no request but the file, and its manifest verifies against the ledger.
    report = os.path.join(work, "report.html")
    run(cairn, ["report", "--format", "html", "--output", report], env)
    network(driver)  # what the dashboard requested
    try:
        driver.get("file://" + report)
        requests, _ = network(driver)
        check(all(url == "file://" + report for url in requests), f"the report requests nothing else: {requests}")
        check(len(page_figures(driver)) > 50, "the report shows the views' figures")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table.rows tbody tr")) == 400, "the report lists 400 rows")
        check(driver.find_elements(By.TAG_NAME, "script") == [], "the report has no script")
        if arguments.screenshots:
            screenshot(driver, os.path.join(arguments.screenshots, "dashboard-report.png"))
    finally:
        driver.quit()
    verified = subprocess.run([cairn, "report", "verify", "--vkey", vkey, "--ledger", ledger, report],
                              capture_output=True, text=True, env=env)
    check(verified.returncode == 0 and "valid" in verified.stdout,
          f"cairn report verify: {verified.stdout}{verified.stderr}")

    if not arguments.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"browser test: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("browser test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
