"""CORS in a real browser: headless Chromium loads ops/browser/index.html from another origin and calls the API.

From an allowed origin the page signs in, loads /me, submits a bulk interaction and reads the exposed
X-Request-Id (and Retry-After from a rate-limited sign-in); from an origin outside the allowlist every
call must fail to fetch. The preflight itself is checked over plain HTTP first. Run by ops/test-browser.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ALLOWED_HEADERS = ["authorization", "content-type", "idempotency-key", "x-request-id"]
EXPOSED_HEADERS = ["x-request-id", "retry-after"]

failures = []


def expect(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def header_list(value):
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def request(method, url, headers):
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def check_preflight(api, allowed, refused):
    url = api + "/api/v1/interactions/bulk"
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": ",".join(ALLOWED_HEADERS)}
    status, headers = request("OPTIONS", url, {"Origin": allowed, **asked})
    expect(200 <= status < 300, f"preflight from {allowed} answers 2xx (got {status})")
    expect(headers.get("Access-Control-Allow-Origin") == allowed,
           f"preflight allows {allowed} (Access-Control-Allow-Origin: {headers.get('Access-Control-Allow-Origin')})")
    expect("POST" in header_list(headers.get("Access-Control-Allow-Methods")).union(
        m.upper() for m in header_list(headers.get("Access-Control-Allow-Methods"))),
        f"preflight allows POST (Access-Control-Allow-Methods: {headers.get('Access-Control-Allow-Methods')})")
    granted = header_list(headers.get("Access-Control-Allow-Headers"))
    expect(set(ALLOWED_HEADERS) <= granted,
           f"preflight allows {', '.join(ALLOWED_HEADERS)} (Access-Control-Allow-Headers: {headers.get('Access-Control-Allow-Headers')})")
    max_age = headers.get("Access-Control-Max-Age") or ""
    expect(max_age.isdigit() and int(max_age) > 0, f"preflight is cached (Access-Control-Max-Age: {max_age or 'absent'})")

    status, headers = request("OPTIONS", url, {"Origin": refused, **asked})
    expect(headers.get("Access-Control-Allow-Origin") is None,
           f"preflight from {refused} is not allowed (status {status}, "
           f"Access-Control-Allow-Origin: {headers.get('Access-Control-Allow-Origin')})")

    status, headers = request("GET", api + "/health", {"Origin": allowed})
    exposed = header_list(headers.get("Access-Control-Expose-Headers"))
    expect(set(EXPOSED_HEADERS) <= exposed,
           f"responses expose {', '.join(EXPOSED_HEADERS)} (Access-Control-Expose-Headers: {headers.get('Access-Control-Expose-Headers')})")


def browser(chromium, chromedriver, timeout):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # Headless, as root in a container, and silent: nothing but loopback may be reached.
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,1300",
                 "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
                 "--disable-client-side-phishing-detection", "--metrics-recording-only", "--disable-features=Translate,MediaRouter"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    except WebDriverException as error:
        # A first start on a cold machine can lose the race for Chromium's DevTools port: one more try.
        print("      chromium did not start (" + str(error.msg).splitlines()[0] + "); trying once more")
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(timeout)
    driver.set_script_timeout(timeout)
    return driver


def run_page(driver, url, timeout, screenshot):
    driver.get(url)
    try:
        WebDriverWait(driver, timeout).until(
            lambda d: d.find_element("id", "state").get_attribute("data-state") != "running")
    except TimeoutException:
        pass
    driver.save_screenshot(screenshot)
    results = driver.execute_script("return window.corsResults || {}")
    state = driver.find_element("id", "state").get_attribute("data-state")
    print(f"      page {url.split('?')[0]}: {state}, screenshot {screenshot}")
    print("      " + json.dumps(results, sort_keys=True))
    return state, results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ["api", "allowed-page", "refused-page", "email", "password", "voter", "assignment", "interaction",
                 "screenshots"]:
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    allowed_origin, refused_origin = (f"{url.scheme}://{url.netloc}" for url in map(urlsplit, [args.allowed_page, args.refused_page]))
    check_preflight(args.api, allowed_origin, refused_origin)

    query = urlencode({"api": args.api, "email": args.email, "password": args.password, "voter": args.voter,
                       "assignment": args.assignment, "interaction": args.interaction})
    driver = browser(args.chromium, args.chromedriver, args.timeout)
    try:
        check_pages(driver, args, query, allowed_origin, refused_origin)
    except WebDriverException as error:
        expect(False, "the browser session: " + str(error.msg).splitlines()[0])
    finally:
        driver.quit()

    print(f"browser CORS: {len(failures)} failed" if failures else "browser CORS: every check passed")
    return 1 if failures else 0


def check_pages(driver, args, query, allowed_origin, refused_origin):
    """The page from the allowed origin reads every answer; the page from the other origin reads none."""
    state, r = run_page(driver, f"{args.allowed_page}?{query}", args.timeout, f"{args.screenshots}/browser-cors-allowed.png")
    expect(state == "passed", f"every call from {allowed_origin} answered (error: {r.get('error')})")
    expect(r.get("anonymousStatus") == 401 and r.get("anonymousCode") == "UNAUTHENTICATED",
           f"an error response is readable from {allowed_origin} (GET /me without a token: {r.get('anonymousStatus')} "
           f"{r.get('anonymousCode')})")
    expect(r.get("loginStatus") == 200 and r.get("loginRole") == "canvasser",
           f"sign-in from {allowed_origin} (status {r.get('loginStatus')}, role {r.get('loginRole')})")
    expect(r.get("meStatus") == 200 and r.get("meEmail") == args.email,
           f"GET /me from {allowed_origin} (status {r.get('meStatus')}, email {r.get('meEmail')})")
    expect(r.get("bulkStatus") == 200 and r.get("bulkCreated") == 1 and r.get("bulkItemStatus") == "created",
           f"bulk interaction from {allowed_origin} (status {r.get('bulkStatus')}, created {r.get('bulkCreated')}, "
           f"item {r.get('bulkItemStatus')})")
    expect(bool(r.get("loginRequestId")), f"X-Request-Id readable from {allowed_origin} (login: {r.get('loginRequestId')})")
    expect(bool(r.get("bulkSentRequestId")) and r.get("bulkRequestId") == r.get("bulkSentRequestId"),
           f"the page's own X-Request-Id is allowed and echoed (sent {r.get('bulkSentRequestId')}, read {r.get('bulkRequestId')})")
    retry_after = str(r.get("rateLimitedRetryAfter") or "")
    expect(r.get("rateLimitedStatus") == 429 and retry_after.isdigit(),
           f"Retry-After readable from {allowed_origin} (status {r.get('rateLimitedStatus')}, Retry-After {retry_after or 'null'})")

    state, r = run_page(driver, f"{args.refused_page}?{query}", args.timeout, f"{args.screenshots}/browser-cors-refused.png")
    expect(state == "failed" and str(r.get("error", "")).startswith("TypeError")
           and "anonymousStatus" not in r and "loginStatus" not in r,
           f"a page from {refused_origin} fails to fetch (error: {r.get('error')})")
    for entry in driver.get_log("browser"):
        print("      console: " + entry.get("message", "")[:300])


if __name__ == "__main__":
    sys.exit(main())
