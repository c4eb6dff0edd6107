#!/usr/bin/env python3
"""The dashboard at 1,000,000 jobs (issue 13): median and p95 time of each dashboard page next to its JSON twin, over a
ledger of a million jobs in 20 orgs and every state. Needs a running `fieldwork serve` on a database filled by
`fill(dsn)` (done here with psql). Usage: dashboard_scale.py BASE_URL DATABASE_URL STAFF_EMAIL STAFF_PASSWORD [JOBS]
"""
import http.cookiejar
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

FILL = """
INSERT INTO organizations (id, name, slug, timezone)
SELECT gen_random_uuid(), 'Scale ' || g, 'scale-' || g || '-' || floor(random() * 1e9)::int, 'America/Chicago'
FROM generate_series(1, 20) g;
INSERT INTO jobs (id, org_id, pipeline, args, state, priority, max_attempts, run_at, created_at, finished_at,
                  last_error, error_fingerprint, attempt)
SELECT gen_random_uuid(), o.ids[1 + (g % 20)],
       (ARRAY['voter-import', 'list-population', 'export', 'field-rollup', 'sleep'])[1 + g % 5],
       jsonb_build_object('listId', md5((g % 5000)::text)),
       (ARRAY['succeeded', 'succeeded', 'succeeded', 'succeeded', 'queued', 'dead', 'retrying', 'cancelled'])[1 + g % 8],
       0, 3, now() - (g % 86400) * interval '1 second', now() - (g % 604800) * interval '1 second',
       CASE WHEN g % 8 < 4 OR g % 8 IN (5, 7) THEN now() - (g % 604800) * interval '1 second' END,
       CASE WHEN g % 8 = 5 THEN 'boom ' || (g % 7) END, CASE WHEN g % 8 = 5 THEN 'fp' || (g % 7) END, 1
FROM generate_series(1, JOBS) g, (SELECT array_agg(id) AS ids FROM organizations WHERE slug LIKE 'scale-%') o;
ANALYZE jobs;
"""


def timed(opener, url, headers=None, count=15):
    times = []
    for _ in range(count):
        request = urllib.request.Request(url, headers=headers or {})
        started = time.perf_counter()
        with opener.open(request, timeout=60) as response:
            response.read()
            status = response.status
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return status, statistics.median(times), times[int(len(times) * 0.95) - 1]


def main():
    base, dsn, email, password = sys.argv[1:5]
    jobs = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000_000
    started = time.time()
    subprocess.run(["psql", "-q", dsn, "-c", FILL.replace("JOBS", str(jobs))], check=True)
    print(f"filled {jobs:,} jobs in {time.time() - started:.0f} s")
    plain = urllib.request.build_opener()
    token_reply = plain.open(urllib.request.Request(
        base + "/api/v1/internal/auth/login", data=f'{{"email":"{email}","password":"{password}"}}'.encode(),
        headers={"Content-Type": "application/json"}))
    token = re.search(r'"accessToken":"([^"]+)"', token_reply.read().decode()).group(1)
    bearer = {"Authorization": "Bearer " + token}
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(base + "/dashboard/login").read().decode()
    login_token = re.search(r'name="_login" value="([^"]+)"', form).group(1)
    browser.open(base + "/dashboard/login", data=urllib.parse.urlencode(
        {"_login": login_token, "email": email, "password": password}).encode())
    pairs = [
        ("overview", "/dashboard", "/api/v1/internal/pipelines"),
        ("tenants", "/dashboard/tenants", "/api/v1/internal/tenants"),
        ("jobs, dead", "/dashboard/jobs?state=dead", "/api/v1/internal/jobs?state=dead"),
        ("jobs, by argument", "/dashboard/jobs?args=listId:" + "c4ca4238a0b923820dcc509a6f75849b",
         "/api/v1/internal/jobs?args=listId:c4ca4238a0b923820dcc509a6f75849b"),
        ("dead letters", "/dashboard/dead-letters", "/api/v1/internal/dead-letters"),
        ("history", "/dashboard/history", "/api/v1/internal/history?by=pipeline"),
    ]
    print(f"| view | page p50 / p95 (ms) | JSON p50 / p95 (ms) |\n|---|---|---|")
    for name, page, api in pairs:
        page_status, page_p50, page_p95 = timed(browser, base + page)
        api_status, api_p50, api_p95 = timed(plain, base + api, bearer)
        print(f"| {name} | {page_p50:.0f} / {page_p95:.0f} ({page_status}) | {api_p50:.0f} / {api_p95:.0f} ({api_status}) |")


if __name__ == "__main__":
    main()
