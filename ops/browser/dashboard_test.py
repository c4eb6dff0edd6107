"""The operator dashboard in a real browser: headless Chromium signs in as staff, checks the overview
against the JSON API, pauses and resumes a pipeline, filters jobs by argument, opens a dead job and
retries it (and sees its attempts grow through the live refresh), dry-runs and confirms a dead-letter
bulk retry, discards the group and sees it go, signs out, and is refused as a campaign admin.
Run by ops/test-browser against `fieldwork all`.
"""

import argparse
import json
import os
import sys
import time
import urllib.parse
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cors_test import browser, expect, failures  # noqa: E402


def api(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method,
                                 headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def wait(driver, timeout, condition, what):
    try:
        WebDriverWait(driver, timeout).until(condition)
        return True
    except TimeoutException:
        expect(False, "timed out waiting for " + what)
        return False


def sign_in(driver, base, email, password):
    driver.get(base + "/dashboard")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def main():
    parser = argparse.ArgumentParser()
    for name in ["base", "staff-email", "staff-password", "staff-token", "admin-email", "admin-password", "marker", "screenshots"]:
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=int, default=20)
    args = parser.parse_args()
    base, t = args.base, args.timeout
    shot = lambda name: driver.save_screenshot(os.path.join(args.screenshots, "dashboard-" + name + ".png"))

    driver = browser(args.chromium, args.chromedriver, t)
    try:
        sign_in(driver, base, args.staff_email, args.staff_password)
        wait(driver, t, lambda d: d.find_elements(By.ID, "pipelines"), "the overview after sign-in")
        cookie = driver.get_cookie("fw_dash") or {}
        expect(cookie.get("httpOnly") is True and cookie.get("sameSite") == "Strict", f"session cookie is HttpOnly, SameSite=Strict ({cookie})")
        pipelines = {p["name"]: p for p in api(base, args.staff_token, "GET", "/internal/pipelines")["pipelines"]}
        row = driver.find_element(By.CSS_SELECTOR, "tr[data-pipeline='fail']")
        shown = int(row.find_element(By.CSS_SELECTOR, "td.dead").text)
        expect(shown == pipelines["fail"]["counts"]["dead"] and shown >= 3,
               f"overview dead count for fail ({shown}) matches the JSON ({pipelines['fail']['counts']['dead']})")
        expect(len(driver.find_elements(By.CSS_SELECTOR, "#hour-chart rect.failed")) >= 1, "the last hour's chart is drawn")
        shot("overview")
        # Pause and resume: the overview's button, the JSON's flag.
        noop = "tr[data-pipeline='noop']"
        driver.find_element(By.CSS_SELECTOR, noop + " button.pause-toggle").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "notice"), "the pause's notice")
        paused = {p["name"]: p.get("paused") for p in api(base, args.staff_token, "GET", "/internal/pipelines")["pipelines"]}
        expect(driver.find_element(By.CSS_SELECTOR, noop).get_attribute("data-paused") == "true" and paused["noop"] is True,
               "pausing noop shows on the overview and in the JSON")
        driver.find_element(By.CSS_SELECTOR, noop + " button.pause-toggle").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "notice"), "the resume's notice")
        # The pause's notice is still on the page until the resume's reload: wait for the row itself to change.
        def resumed(d):
            try:
                return d.find_element(By.CSS_SELECTOR, noop).get_attribute("data-paused") is None
            except StaleElementReferenceException:
                return False
        wait(driver, t, resumed, "the resumed row")
        paused = {p["name"]: p.get("paused") for p in api(base, args.staff_token, "GET", "/internal/pipelines")["pipelines"]}
        expect(driver.find_element(By.CSS_SELECTOR, noop).get_attribute("data-paused") is None and paused["noop"] is False,
               "resuming noop shows on the overview and in the JSON")

        driver.get(base + "/dashboard/jobs")
        Select(driver.find_element(By.NAME, "state")).select_by_visible_text("dead")
        driver.find_element(By.NAME, "args").send_keys("message:" + args.marker)
        driver.find_element(By.ID, "apply-filters").click()
        wait(driver, t, lambda d: "args=" in d.current_url, "the filtered job list")
        rows = driver.find_elements(By.CSS_SELECTOR, "#jobs tr[data-job]")
        expect(len(rows) == 3, f"the argument filter finds the 3 marked dead jobs ({len(rows)})")
        shot("jobs")
        if not rows:
            return
        rows[0].find_element(By.TAG_NAME, "a").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "job-state"), "the job page")
        job_id = driver.find_element(By.ID, "job-id").text
        expect(driver.find_element(By.ID, "job-state").text == "dead", "the job is dead")
        attempts = len(driver.find_elements(By.CSS_SELECTOR, "#attempts tbody tr"))
        Select(driver.find_element(By.ID, "refresh-interval")).select_by_value("2")
        driver.find_element(By.ID, "retry").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "notice"), "the retry's notice")
        # The job runs again (and, not retryable, dies again): the live refresh shows the new attempt.
        wait(driver, t, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")) > attempts, "a new attempt on the job page")
        expect(api(base, args.staff_token, "GET", "/internal/jobs/" + job_id)["attempt"] > attempts, "the retried job ran again")
        shot("job")

        driver.get(base + "/dashboard/dead-letters")
        group = f"tr[data-pipeline='fail'][data-org='']"
        before = int(driver.find_element(By.CSS_SELECTOR, group + " td.count").text)
        driver.find_element(By.CSS_SELECTOR, group + " button.group-retry").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "matched"), "the dry-run count")
        matched = int(driver.find_element(By.ID, "matched").text)
        expect(matched == before, f"the dry run counts the group ({matched} of {before})")
        shot("confirm")
        driver.find_element(By.ID, "confirm").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "notice"), "the bulk retry's notice")
        marked = lambda: api(base, args.staff_token, "GET", "/internal/jobs?args=" + urllib.parse.quote("message:" + args.marker))["items"]
        deadline = time.time() + t
        while time.time() < deadline and not all(j["attempt"] >= 2 for j in marked()):
            time.sleep(0.3)
        expect(all(j["attempt"] >= 2 for j in marked()), "every job of the group ran again after the confirmed bulk retry")
        # The jobs die again (not retryable); discard the whole group and see it go.
        while time.time() < deadline + t and any(j["state"] != "dead" for j in marked()):
            time.sleep(0.3)
        driver.get(base + "/dashboard/dead-letters")
        if driver.find_elements(By.CSS_SELECTOR, group):
            driver.find_element(By.CSS_SELECTOR, group + " button.group-discard").click()
            wait(driver, t, lambda d: d.find_elements(By.ID, "confirm"), "the discard confirmation")
            driver.find_element(By.ID, "confirm").click()
            wait(driver, t, lambda d: d.find_elements(By.ID, "notice"), "the discard's notice")
        expect(not driver.find_elements(By.CSS_SELECTOR, group), "the discarded group is gone")
        shot("dead-letters")

        driver.find_element(By.ID, "sign-out").click()
        wait(driver, t, lambda d: d.find_elements(By.ID, "sign-in"), "the sign-in form after sign-out")
        driver.get(base + "/dashboard")
        expect(driver.find_elements(By.ID, "sign-in") != [], "signed out: the dashboard asks to sign in again")

        sign_in(driver, base, args.admin_email, args.admin_password)
        wait(driver, t, lambda d: d.find_elements(By.ID, "message"), "the refusal")
        expect("Campaign accounts cannot use the dashboard" in driver.find_element(By.ID, "message").text, "a campaign admin is refused")
        expect(driver.get_cookie("fw_dash") is None, "a campaign admin gets no session")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE" and "favicon" not in e.get("message", "")
                  and "403" not in e.get("message", "")]
        expect(not errors, f"no script errors or CSP violations in the console ({errors[:3]})")
    finally:
        driver.quit()
    if failures:
        print(f"{len(failures)} dashboard check(s) failed")
        sys.exit(1)
    print("dashboard: all browser checks passed")


if __name__ == "__main__":
    main()
