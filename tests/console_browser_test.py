#!/usr/bin/env python3
"""The web console (server/console/) in headless Chromium, through Selenium.

Starts recsys-console-fixture (a live recsys server with the trained test
bundle and a records database), opens the console, and checks what a user
sees against the server's own answers, fetched directly by this test:
  - a known customer: the demographics and the history table are shown; the
    top-7 chart's bars carry the products, ranks and probabilities of a
    direct POST .../santander:recommend with the same request, and their
    labels print those probabilities; each product's explanation lists the
    server's features and contribution numbers;
  - bad ids (0, "abc") and an unknown one: a clear message naming the
    problem, and no customer or chart shown;
  - the model panel names the serving version; the drift panel's bars carry
    the PSI values of GET .../drift.
With --screenshot PATH it also saves a screenshot of the page after the
known customer's search (docs/console.png is made this way).

Exits non-zero (a failure, not a skip) when Chromium, chromedriver or
python3-selenium are missing: run scripts/install-deps.
"""
import argparse
import json
import math
import os
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

CHROMEDRIVER = "/usr/bin/chromedriver"
REQUIRE_EXPLANATIONS = True  # --allow-unexplained turns it off
INSTALL_HINT = ("the browser test needs chromium, chromium-driver and "
                "python3-selenium: run scripts/install-deps")


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def http_json(url, body=None):
    """GET (or POST `body` as JSON) and return (status, parsed JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def add_months(month, n):
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + mon - 1 + n
    return "%04d-%02d" % (index // 12, index % 12 + 1)


def to_fixed(value, digits):
    """JavaScript's Number.prototype.toFixed for the values shown here."""
    return "%.*f" % (digits, value)


def start_fixture(path):
    process = subprocess.Popen([path], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([process.stdout], [], [], 300)
    check(ready, "recsys-console-fixture did not start in 300 s")
    line = process.stdout.readline()
    check(line, "recsys-console-fixture exited before it was ready")
    return process, json.loads(line)


class Page:
    """The console in one browser window, with bounded waits."""

    def __init__(self, driver, url):
        self.driver = driver
        self.url = url

    def wait(self, what, condition, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = condition()
                if last:
                    return last
            except Exception as e:  # an element not there yet
                last = e
            time.sleep(0.05)
        fail("timed out waiting for %s (last: %r)" % (what, last))

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def search(self, text):
        from selenium.webdriver.common.by import By
        box = self.driver.find_element(By.ID, "ncodpers")
        box.clear()
        box.send_keys(text)
        # A marker the page's next answer replaces, so that the wait below
        # never reads the previous search's result.
        self.driver.execute_script(
            "document.getElementById('message').textContent = 'pending';"
            "document.getElementById('message').hidden = false;")
        self.driver.find_element(By.ID, "go").click()

    def message(self):
        from selenium.webdriver.common.by import By
        box = self.driver.find_element(By.ID, "message")
        return box.text if box.is_displayed() else ""

    def shown(self, element_id):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.ID, element_id).is_displayed()


def check_known_customer(page, base, customer_id, screenshot):
    status, customer = http_json(base + "v1/customers/%d" % customer_id)
    check(status == 200, "GET /v1/customers/%d: %s %s" % (customer_id, status, customer))
    # The request the page sends (app.js recommendRequest): the record,
    # scored for the month the serving history serves, explained.
    record = dict(customer.get("record") or {})
    record["ncodpers"] = str(customer["ncodpers"])
    record["fechaDato"] = add_months(customer["historyMonth"], 1) + "-28"
    status, answer = http_json(base + "v1/models/santander:recommend",
                               {"customer": record, "k": 7, "explain": True})
    check(status == 200, "direct recommend: %s %s" % (status, answer))
    expected = answer["recommendations"]
    check(len(expected) == 7, "the server recommended %d products" % len(expected))

    page.search(str(customer_id))
    bars = page.wait("the top-7 chart",
                     lambda: len(page.find("#chart g.row")) == len(expected)
                     and page.find("#chart g.row"))
    check(page.message() == "", "message after a good search: %r" % page.message())
    for bar, rec in zip(bars, expected):
        product = bar.get_attribute("data-product")
        score = float(bar.get_attribute("data-score"))
        rank = int(bar.get_attribute("data-rank"))
        label = bar.find_element("css selector", "text.value").text
        check(product == rec["product"], "bar %d shows %s, the server ranked %s"
              % (rank, product, rec["product"]))
        check(rank == rec["rank"], "rank %d vs %d" % (rank, rec["rank"]))
        check(math.isclose(score, rec["score"], rel_tol=0, abs_tol=1e-12),
              "%s: bar score %r, server %r" % (product, score, rec["score"]))
        check(label == to_fixed(rec["score"], 4),
              "%s: bar label %r, server %r" % (product, label, rec["score"]))
    widths = [float(b.find_element("css selector", "rect.bar").get_attribute("width"))
              for b in bars]
    check(widths == sorted(widths, reverse=True) and widths[0] > widths[-1] >= 0,
          "bar lengths do not follow the probabilities: %r" % widths)

    # Demographics: the record's fields; history: one column per month.
    demo = {row.find_element("css selector", "th").text:
            row.find_element("css selector", "td").text
            for row in page.find("#demographics tbody tr")}
    if "age" in record:
        check(demo.get("age") == str(record["age"]),
              "demographics show age %r, the record %r" % (demo.get("age"), record["age"]))
    history_rows = page.find("#history tbody tr")
    check(len(customer.get("history", [])) == 0 or history_rows,
          "the history table is empty")

    # Explanations: the server's features and contributions, per product.
    explained = [r for r in expected if (r.get("explanation") or {}).get("features")]
    if not explained:
        check(not REQUIRE_EXPLANATIONS,
              "the server sent no explanations (Recommendation.explanation unset)")
        print("NOTE: the server sent no explanations (Recommendation.explanation "
              "unset); checking that the page says so", file=sys.stderr)
        notes = page.find("details.explanation p.note")
        check(len(notes) == len(expected), "no 'no explanation' note per product")
    for rec in explained:
        rows = page.find('details.explanation[data-product="%s"] tr.contribution'
                         % rec["product"])
        features = rec["explanation"]["features"]
        check(len(rows) == len(features), "%s: %d contribution rows, server %d"
              % (rec["product"], len(rows), len(features)))
        for row, feature in zip(rows, features):
            check(row.get_attribute("data-feature") == feature["feature"],
                  "%s: feature %r vs %r" % (rec["product"],
                                            row.get_attribute("data-feature"),
                                            feature["feature"]))
            shown = float(row.get_attribute("data-contribution"))
            check(math.isclose(shown, feature["contribution"], abs_tol=1e-12),
                  "%s/%s: contribution %r, server %r" % (
                      rec["product"], feature["feature"], shown,
                      feature["contribution"]))
            text = row.find_elements("css selector", "td")[-1].get_attribute(
                "textContent")  # closed <details> hide it from .text
            want = ("+" if feature["contribution"] >= 0 else "") + to_fixed(
                feature["contribution"], 4)
            check(text == want, "%s/%s: shows %r, server %r" % (
                rec["product"], feature["feature"], text, want))
    if explained:
        print("explanations: %d products, numbers match" % len(explained))

    if screenshot:
        page.driver.execute_script("window.scrollTo(0, 0)")
        height = page.driver.execute_script(
            "return document.documentElement.scrollHeight")
        page.driver.set_window_size(1400, min(max(height, 900), 3000))
        page.driver.save_screenshot(screenshot)
        print("screenshot: " + screenshot)


def check_bad_ids(page, unknown):
    cases = [("0", "ncodpers: must be positive, got 0"),
             ("abc", 'ncodpers: must be a positive integer, got "abc"'),
             (str(unknown), "customer %d is not known" % unknown)]
    for text, expected in cases:
        page.search(text)
        shown = page.wait("the message for %r" % text,
                          lambda: page.message() not in ("", "pending")
                          and not page.message().startswith("Looking up")
                          and page.message())
        check(expected in shown, "for %r the page says %r, expected it to say %r"
              % (text, shown, expected))
        check(not page.shown("customer-panel") and not page.shown("recommendation-panel"),
              "for %r a customer or a chart is still shown" % text)
    print("bad ids: clear messages")


def check_panels(page, base):
    page.wait("the model panel", lambda: any(
        "serving version" in r.text for r in page.find("#model tbody tr")))
    status, info = http_json(base + "v1/models/santander")
    check(status == 200, "GET /v1/models/santander: %s" % status)
    rows = {r.find_element("css selector", "th").text:
            r.find_element("css selector", "td").text
            for r in page.find("#model tbody tr")}
    check(rows.get("serving version") == info["model"]["version"],
          "model panel: serving version %r, server %r"
          % (rows.get("serving version"), info["model"]["version"]))
    check(page.find('#versions tr[data-version="%s"]' % info["model"]["version"]),
          "the versions table lacks the serving version")
    check(page.find("#reloads tr.reload.swap"), "the reload history shows no swap")
    # Drift: reload the panel (the search above scored one more row).
    status, drift = http_json(base + "v1/models/santander/drift")
    check(status == 200, "GET drift: %s" % status)
    page.driver.refresh()
    bars = page.wait("the PSI chart", lambda: page.find("#psi-chart g.row"))
    status, drift = http_json(base + "v1/models/santander/drift")
    ranked = sorted((f for f in drift["features"] if f["psi"] is not None),
                    key=lambda f: -f["psi"])
    check(ranked, "the server reports no PSI yet: %s" % drift)
    # The page draws the 20 largest (app.js PSI_BARS).
    want = {f["feature"]: f["psi"] for f in ranked[:20]}
    shown = {b.get_attribute("data-feature"): float(b.get_attribute("data-psi"))
             for b in bars if b.get_attribute("data-feature") != "prediction"}
    check(set(shown) == set(want), "PSI bars for %s, the server's 20 largest %s"
          % (sorted(shown), sorted(want)))
    if drift["predictionPsi"] is not None:
        bar = page.find('#psi-chart g.row[data-feature="prediction"]')
        check(bar and math.isclose(float(bar[0].get_attribute("data-psi")),
                                   drift["predictionPsi"], abs_tol=1e-12),
              "the top-1 product's PSI bar does not show the server's value")
    for feature, psi in want.items():
        check(math.isclose(shown[feature], psi, abs_tol=1e-12),
              "%s: PSI bar %r, server %r" % (feature, shown[feature], psi))
    check(page.find("#psi-chart line.line-moderate") and
          page.find("#psi-chart line.line-major"),
          "the PSI chart lacks the 0.1 / 0.25 lines")
    check(page.find("#mix-chart g.row"), "the prediction mix is empty")
    print("model and drift panels: %d PSI bars match" % len(want))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixture", required=True,
                        help="the recsys-console-fixture program")
    parser.add_argument("--screenshot", help="save a screenshot here")
    parser.add_argument("--allow-unexplained", action="store_true",
                        help="pass when the server sends no explanations")
    args = parser.parse_args()
    global REQUIRE_EXPLANATIONS
    REQUIRE_EXPLANATIONS = not args.allow_unexplained

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        fail("%s (%s; python %s)" % (INSTALL_HINT, e, sys.executable))
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    check(browser, INSTALL_HINT + " (no chromium on PATH)")
    check(os.access(CHROMEDRIVER, os.X_OK), INSTALL_HINT + " (no " + CHROMEDRIVER + ")")

    process, ready = start_fixture(args.fixture)
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1600",
                     "--hide-scrollbars"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        base = ready["url"]
        driver.get(base)
        page = Page(driver, base)
        check("Santander" in driver.title, "page title %r" % driver.title)
        check_panels(page, base)
        check_known_customer(page, base, ready["customer"], args.screenshot)
        check_bad_ids(page, ready["unknown"])
        # Errors the browser saw (CSP violations would be listed here).
        severe = [entry for entry in driver.get_log("browser")
                  if entry.get("level") == "SEVERE"
                  and "/v1/customers/" not in entry.get("message", "")]
        check(not severe, "browser console errors: %r" % severe)
        print("PASS: the console shows the server's answers")
    finally:
        if driver is not None:
            driver.quit()
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
