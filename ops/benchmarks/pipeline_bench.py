"""The pipeline benchmarks of issues 11 and 12 (`ops/bench import|export|lists|summary`, or several joined by commas):
voter import through the API next to `psql \\copy` (the floor), export, list population and the field summary.
They share one scratch ledger, one `fieldwork serve` and one `fieldwork work`: export, lists and summary run on the
org the import filled. Imported by bench.py, whose helpers it uses."""
import datetime, http.client, json, os, random, signal, subprocess, time, urllib.request

from __main__ import PORT, World, cpu_by_group, profile, psql, timed_get

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".data", "bench")
MODES = ("import", "export", "lists", "summary")
DONE = ("succeeded", "failed", "cancelled")


def voter_file(rows):
    """The Louisiana-style file of `rows` rows (seed 7), generated once and kept under .data/bench/."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f"la-{rows}.csv")
    if not os.path.exists(path):
        print(f"generating {path}", flush=True)
        subprocess.run([os.path.join(ROOT, "ops", "gen-voter-file"), "--rows", str(rows), "--seed", "7", "--output", path + ".tmp"], check=True)
        os.rename(path + ".tmp", path)
    return path


def call(world, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"authorization": f"Bearer {token}", **({"content-type": "application/json"} if data is not None else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def admin_org(world, tag):
    """A fresh org made through the staff API, and its admin's token."""
    slug = f"bench-{tag}-{random.randint(0, 10**9)}"
    body = {"name": f"Bench {tag}", "slug": slug, "timezone": "America/Chicago",
            "admin": {"email": f"admin@{slug}.test", "name": "Bench Admin", "password": "bench-password"}}
    org = world.post("/api/v1/internal/organizations", body, world.token)["org"]["id"]
    ADMINS[org] = f"admin@{slug}.test"
    return org, login(world, org)


ADMINS = {}


def login(world, org):
    """A fresh admin token for `org` (access tokens expire within a long run)."""
    return world.post("/api/v1/auth/login", {"email": ADMINS[org], "password": "bench-password"})["accessToken"]


def peak_rss_reset(pid):
    """Resets the kernel's peak RSS (VmHWM) of `pid`, so the next reading covers one run only."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for(fetch, what, limit=1800):
    start = time.time()
    while True:
        state = fetch()
        if state["status"] in DONE:
            if state["status"] != "succeeded":
                raise RuntimeError(f"{what} ended {state['status']}: {json.dumps(state)[:800]}")
            return state
        if time.time() - start > limit:
            raise RuntimeError(f"{what} timed out: {json.dumps(state)[:800]}")
        time.sleep(0.1)


def timed(world, run):
    """Runs `run()` with the worker's peak RSS reset before, and the CPU each process used."""
    worker = world.workers[0].pid
    peak_rss_reset(worker)
    pids = world.pids()
    before = cpu_by_group(pids)
    start = time.time()
    out = run()
    seconds = time.time() - start
    after = cpu_by_group(pids, world.pids())  # the import's second connection is a backend born mid-run
    return {**out, "seconds": seconds, "rss_mb": peak_rss_mb(worker), "profile": profile(before, after, seconds)}


def import_file(world, token, path):
    """Uploads `path` as a raw text/csv body (streamed from disk) and waits until its import job has succeeded."""
    def run():
        size = os.path.getsize(path)
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600, blocksize=1 << 20)
        start = time.time()
        with open(path, "rb") as body:
            connection.request("POST", f"/api/v1/imports/voters?format=louisiana&fileName={os.path.basename(path)}", body=body,
                               headers={"authorization": f"Bearer {token}", "content-type": "text/csv", "content-length": str(size)})
            response = connection.getresponse()
            job = json.loads(response.read())
        if response.status != 202:
            raise RuntimeError(f"upload answered {response.status}: {job}")
        uploaded = time.time() - start
        done = wait_for(lambda: call(world, "GET", f"/api/v1/imports/{job['id']}", token), "import")
        return {"upload_seconds": uploaded, "job": done, "rows": done["progress"]["rowsRead"], "bytes": size}
    return timed(world, run)


def floor_copy(world, path):
    """`psql \\copy` of the same file into an unindexed table of 26 text columns: what loading the bytes costs at least."""
    columns = ", ".join(f"c{i} text" for i in range(26))
    psql(f"DROP TABLE IF EXISTS bench_floor; CREATE UNLOGGED TABLE bench_floor ({columns})", world.db)
    psql("DROP TABLE IF EXISTS bench_floor_logged; CREATE TABLE bench_floor_logged (LIKE bench_floor)", world.db)
    result = {}
    for table in ("bench_floor_logged", "bench_floor"):
        start = time.time()
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", world.db, "-c", f"\\copy {table} FROM '{path}' WITH (FORMAT csv, HEADER true)"],
                       check=True)
        result[table] = {"seconds": time.time() - start, "rows": int(psql(f"SELECT count(*) FROM {table}", world.db))}
    # The schema's floor: the same rows put by one INSERT … SELECT from the table above into a copy of `voters` with all
    # of its indexes (`LIKE voters INCLUDING ALL`), dropped afterwards, so `voters` itself is not bloated for the import.
    def insert(where="true"):
        return f"""INSERT INTO bench_voters (org_id, external_id, last_name, first_name, middle_name, suffix, sex, race, birth_year,
                            party, res_house_number, res_house_fraction, res_street_direction, res_street_name, res_unit, res_city,
                            res_state, res_zip5, res_zip4, parish, ward, precinct, registration_date, status, phone)
        SELECT '00000000-0000-0000-0000-00000000f100', c0, c1, c2, NULLIF(c3, ''), NULLIF(c4, ''), c5, c6, NULLIF(c7, '')::int, c8,
               c9, NULLIF(c10, ''), NULLIF(c11, ''), c12, NULLIF(c13, ''), c14, c15, c16, NULLIF(c17, ''), c18, c19, c20,
               to_date(NULLIF(c21, ''), 'YYYYMMDD'), CASE WHEN c22 = 'I' THEN 'inactive' ELSE 'active' END, NULLIF(c23, '')
        FROM bench_floor_logged WHERE {where}"""
    psql("CREATE TABLE bench_voters (LIKE voters INCLUDING ALL)", world.db)
    start = time.time()
    psql(insert(), world.db)
    result["voters_insert_select"] = {"seconds": time.time() - start, "rows": result["bench_floor_logged"]["rows"]}
    # The same on two connections at once, half of the rows each (the import loads two batches at once).
    psql("DROP TABLE bench_voters; CREATE TABLE bench_voters (LIKE voters INCLUDING ALL)", world.db)
    start = time.time()
    halves = [subprocess.Popen(["psql", "-q", "-v", "ON_ERROR_STOP=1", world.db, "-c", insert(f"hashtext(c0) & 1 = {half}")])
              for half in (0, 1)]
    if any(p.wait() != 0 for p in halves):
        raise RuntimeError("the two-connection schema floor failed")
    result["voters_insert_select_2"] = {"seconds": time.time() - start, "rows": int(psql("SELECT count(*) FROM bench_voters", world.db))}
    psql("DROP TABLE bench_voters", world.db)
    for table in ("bench_floor_logged", "bench_floor"):
        psql(f"DROP TABLE {table}", world.db)
    return result


class Perf:
    """`perf record -a` around a run (if perf works here): the whole machine's samples, split later by process and symbol."""

    def __init__(self, name):
        self.path = os.path.join(os.environ["FIELDWORK_DATA"], f"perf-{name}.data")
        try:
            self.proc = subprocess.Popen(["perf", "record", "-a", "-F", "199", "-q", "-o", self.path], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        except OSError:
            self.proc = None

    def report(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        def top(sort, limit):
            out = subprocess.run(["perf", "report", "-i", self.path, "--stdio", "--no-children", "--sort", sort, "--percent-limit", limit],
                                 capture_output=True, text=True).stdout
            return [l.rstrip() for l in out.splitlines() if l.strip() and not l.startswith("#")][:25]
        return {"comm": top("dso", "1"), "symbol": top("dso,sym", "1.2")}


def import_bench(world, results, rows_list):
    org, token = admin_org(world, "import")
    results["import"] = {"runs": []}
    for rows in rows_list:
        path = voter_file(rows)
        floor = floor_copy(world, path)
        perf = Perf(f"import-{rows}") if rows == rows_list[0] else None
        first = import_file(world, token, path) if rows == rows_list[0] else import_file(world, admin_org(world, f"i{rows}")[1], path)
        first["perf"] = perf.report() if perf else None
        run = {"rows": rows, "floor": floor, "first": first}
        print(f"import {rows}: floor {floor}, first {first['rows'] / first['seconds']:,.0f} rows/s, rss {first['rss_mb']:.0f} MB", flush=True)
        if rows == rows_list[0]:
            run["again"] = import_file(world, token, path)
            print(f"re-import {rows}: {run['again']['rows'] / run['again']['seconds']:,.0f} rows/s", flush=True)
        results["import"]["runs"].append(run)
    return org, token


def s3_import(results, rows):
    url = os.environ.get("BENCH_S3_URL", "s3://fieldwork-bench?endpoint=http://127.0.0.1:55900&region=us-east-1")
    endpoint = url.split("endpoint=")[1].split("&")[0]
    bucket = url.split("://")[1].split("?")[0]
    subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "PUT", f"{endpoint}/{bucket}"], check=True)
    world = World(workers=1, env={"STORAGE_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    try:
        _, token = admin_org(world, "s3")
        results["import"]["s3"] = {"rows": rows, **import_file(world, token, voter_file(rows))}
        print(f"import on S3: {rows / results['import']['s3']['seconds']:,.0f} rows/s", flush=True)
    finally:
        world.close()


def export_bench(world, results, token):
    def run():
        job = call(world, "POST", "/api/v1/exports", token, {"kind": "voters"})
        done = wait_for(lambda: call(world, "GET", f"/api/v1/exports/{job['id']}", token), "export")
        return {"rows": done.get("rowCount", 0), "bytes": done.get("byteSize", 0)}
    results["export"] = timed(world, run)
    print(f"export: {results['export']['rows'] / results['export']['seconds']:,.0f} rows/s", flush=True)


def lists_bench(world, results, token):
    results["lists"] = {"voters": int(psql("SELECT count(*) FROM voters", world.db)), "runs": []}
    # The imports just wrote a million voters: vacuum them first, so the populations are not timed beside
    # autovacuum's pass over the fresh table (on two cores it takes one of them).
    start = time.time()
    psql("VACUUM (ANALYZE) voters", world.db)
    results["lists"]["vacuum_seconds"] = time.time() - start
    print(f"lists: VACUUM (ANALYZE) voters first, {results['lists']['vacuum_seconds']:.1f} s", flush=True)
    for label, criteria in [("birthYearMin 1920, birthYearMax 1964", {"birthYearMin": 1920, "birthYearMax": 1964}),
                            ("parties DEM, REP, OTH, statuses active", {"parties": ["DEM", "REP", "OTH"], "statuses": ["active"]})]:
        def run():
            made = call(world, "POST", "/api/v1/lists", token, {"name": label, "criteria": criteria})
            def fetch():
                got = call(world, "GET", f"/api/v1/lists/{made['id']}", token)
                return {**got, "status": (got.get("population") or {}).get("status", "queued")}
            done = wait_for(fetch, "list population")
            return {"members": done["memberCount"], "label": label}
        r = timed(world, run)
        results["lists"]["runs"].append(r)
        print(f"lists {label}: {r['members']:,} members, {r['members'] / r['seconds']:,.0f}/s", flush=True)


def percentiles(samples):
    samples = sorted(samples)
    return {"n": len(samples), "p50": samples[len(samples) // 2], "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            "max": samples[-1]}


def summary_bench(world, results, org, token, total=5_000_000, n=200, budget=90):
    start = time.time()
    psql(f"""INSERT INTO users (email, name) SELECT 'canvasser' || i || '@{org}.bench', 'Canvasser ' || i FROM generate_series(1, 40) i;
             INSERT INTO memberships (org_id, user_id, role) SELECT '{org}', id, 'canvasser' FROM users WHERE email LIKE '%@{org}.bench'""",
         world.db)
    voters = int(psql(f"SELECT count(*) FROM voters WHERE org_id = '{org}'", world.db))
    results_array = ("ARRAY['canvassed','not_home','refused','moved','deceased','inaccessible','vacant','hostile','language_barrier',"
                     "'come_back','wrong_address','do_not_contact','lit_drop']")
    step = 1_000_000
    for first in range(0, total, step):
        # A bulk fill, not the API path: replica mode skips the per-row foreign-key checks and the latest-result trigger
        # (every voter_id is taken from this org's voters), which would make 5M rows take many minutes.
        psql(f"""SET session_replication_role = replica;
            WITH c AS (SELECT array_agg(id) AS ids FROM users WHERE email LIKE '%@{org}.bench'),
                 v AS (SELECT id, row_number() OVER () - 1 AS k FROM voters WHERE org_id = '{org}'),
                 g AS (SELECT i, now() - ((i::bigint * 7919) % (90 * 86400)) * interval '1 second' AS at
                       FROM generate_series({first}, {min(total, first + step) - 1}) i)
            INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at, received_at)
            SELECT '{org}', gen_random_uuid(), v.id, (SELECT ids FROM c)[1 + g.i % 40], CASE WHEN g.i % 5 = 0 THEN 'phone' ELSE 'door' END,
                   ({results_array})[1 + (g.i * 7) % 13], g.at, g.at
            FROM g JOIN v ON v.k = g.i % {voters}""", world.db)
        print(f"summary fill: {first + step:,} interactions after {time.time() - start:.0f} s", flush=True)
    psql("VACUUM ANALYZE interactions", world.db)
    fill = time.time() - start
    rollup_start = time.time()
    jobs = call(world, "POST", "/api/v1/internal/schedules/field-rollup/trigger", world.token)["jobIds"]
    ids = "','".join(jobs)
    while int(psql(f"SELECT count(*) FROM jobs WHERE id IN ('{ids}') AND state IN ('succeeded', 'dead', 'discarded', 'cancelled')",
                   world.db)) < len(jobs):
        time.sleep(0.2)
    rollup = time.time() - rollup_start
    today = datetime.date.today()
    path = f"/api/v1/metrics/field/summary?from={today - datetime.timedelta(days=89)}&to={today}"
    token = login(world, org)
    summary = call(world, "GET", path, token)
    world.token, staff = token, world.token
    try:
        timed_get(world, path, 5)
        # Sequential requests, at most `n`, stopped after `budget` seconds when each takes long.
        start, samples = time.time(), []
        while len(samples) < n and (time.time() - start < budget or len(samples) < 10):
            samples.append(timed_get(world, path, 1)["p50"])
        latency = percentiles(samples)
        # A day's work arriving after the rollup (read raw until the next run): 50,000 interactions of today,
        # received now, on 50,000 voters, as the bulk route would write them.
        psql(f"""SET session_replication_role = replica;
            WITH c AS (SELECT array_agg(id) AS ids FROM users WHERE email LIKE '%@{org}.bench'),
                 v AS (SELECT id, row_number() OVER () - 1 AS k FROM voters WHERE org_id = '{org}' LIMIT 50000)
            INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at, received_at)
            SELECT '{org}', gen_random_uuid(), v.id, (SELECT ids FROM c)[1 + v.k % 40], 'door', ({results_array})[1 + (v.k * 7) % 13],
                   greatest(date_trunc('day', now() AT TIME ZONE o.timezone) AT TIME ZONE o.timezone, now() - v.k * interval '1 second'), now()
            FROM v, organizations o WHERE o.id = '{org}'""", world.db)
        timed_get(world, path, 5)
        start, samples = time.time(), []
        while len(samples) < n and (time.time() - start < budget or len(samples) < 10):
            samples.append(timed_get(world, path, 1)["p50"])
        live = {f"live_{k}": v for k, v in percentiles(samples).items()}
    finally:
        world.token = staff
    results["summary"] = {"interactions": total, "fill_seconds": fill, "rollup_seconds": rollup, "rollup_jobs": len(jobs),
                          "attempts": summary["totals"]["attempts"], **latency, **live}
    print(f"summary: {results['summary']}", flush=True)


def run(modes):
    """Runs the pipeline modes in `modes`; the import (1M rows) runs first whenever another mode needs its org."""
    results = {}
    if os.environ.get("BENCH_S3_ONLY") == "1":
        results["import"] = {"runs": []}
        s3_import(results, int(os.environ.get("BENCH_ROWS", "1000000")))
        return {}
    world = World(workers=1)
    try:
        # BENCH_ROWS / BENCH_INTERACTIONS shrink a run to check the script itself (the issues' sizes are the defaults).
        rows = [int(os.environ.get("BENCH_ROWS", "1000000"))] + ([3_000_000] if os.environ.get("BENCH_3M") == "1" else [])
        if "import" in modes:
            org, token = import_bench(world, results, rows)
        elif set(modes) & set(MODES):
            org, token = admin_org(world, "import")
            import_file(world, token, voter_file(rows[0]))
        if "export" in modes:
            export_bench(world, results, token)
        if "lists" in modes:
            lists_bench(world, results, token)
        if "summary" in modes:
            summary_bench(world, results, org, token, total=int(os.environ.get("BENCH_INTERACTIONS", "5000000")))
    finally:
        world.close()
    if "import" in modes and os.environ.get("BENCH_S3", "1") == "1":
        s3_import(results, rows[0])
    return results


def rate(r):
    return r["rows"] / r["seconds"]


def perf_lines(perf):
    if not perf:
        return []
    return (["", "`perf record -a -F 199` over the first import (whole machine; share of all samples by binary or library, then the "
             "hottest symbols):", "", "```"] + perf["comm"][:10] + [""] + perf["symbol"][:25] + ["```"])


def markdown(mode, results):
    """The lines of `mode`'s section of docs/benchmarks.md (under the heading and the date line bench.py writes)."""
    lines = []
    if mode == "import":
        lines += ["### Voter import end to end (upload + job until succeeded) against the `psql \\copy` floor", "",
                  "Louisiana-style files from `ops/gen-voter-file --seed 7` (cached under `.data/bench/`), uploaded as a raw `text/csv` "
                  "body to `POST /api/v1/imports/voters?format=louisiana` (streamed from disk), then `GET /imports/{id}` polled every "
                  "0.1 s until `succeeded`; one `fieldwork serve`, one `fieldwork work`, local directory store unless noted. The floor "
                  "is `\\copy t FROM file WITH (FORMAT csv, HEADER true)` into a table of 26 text columns, no index, no constraint, in "
                  "the same scratch database and run. Peak RSS is the worker's `VmHWM`, reset (`/proc/<pid>/clear_refs`) before each run. "
                  "Targets: ≥ 150,000 rows/s, within 2× the floor, worker RSS < 300 MB; re-import (all unchanged) ≥ 250,000 rows/s.", "",
                  "| run | rows | MB | seconds (upload part) | rows/s | floor rows/s (logged / unlogged table) | × floor (logged) | worker peak RSS MB | counts |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for run in results["runs"]:
            fl = run["floor"]
            logged, unlogged = fl["bench_floor_logged"], fl["bench_floor"]
            floor_rate = logged["rows"] / logged["seconds"]
            for label, r in [("first import", run["first"]), ("re-import, all unchanged", run.get("again"))]:
                if not r:
                    continue
                p = r["job"]["progress"]
                counts = f"inserted {p['inserted']:,}, updated {p['updated']:,}, unchanged {p['unchanged']:,}, rejected {p['rejected']:,}"
                lines.append(f"| {label} | {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {r['seconds']:.1f} ({r['upload_seconds']:.1f}) | "
                             f"{rate(r):,.0f} | {floor_rate:,.0f} / {unlogged['rows'] / unlogged['seconds']:,.0f} | "
                             f"{floor_rate / rate(r):.2f} | {r['rss_mb']:.0f} | {counts} |")
        if "s3" in results:
            r = results["s3"]
            p = r["job"]["progress"]
            lines.append(f"| first import, S3 store (moto on loopback) | {r['rows']:,} | {r['bytes'] / 1e6:.0f} | "
                         f"{r['seconds']:.1f} ({r['upload_seconds']:.1f}) | {rate(r):,.0f} | | | {r['rss_mb']:.0f} | "
                         f"inserted {p['inserted']:,}, rejected {p['rejected']:,} |")
        lines += [""] + [f"Schema floor, {run['rows']:,} rows: the same rows put into `voters` (all 11 of its indexes) by one `INSERT … SELECT` "
                         f"from the `\\copy` table into a copy of the table (`LIKE voters INCLUDING ALL`): {run['floor']['voters_insert_select']['seconds']:.1f} s, "
                         f"**{rate(run['floor']['voters_insert_select']):,.0f} rows/s**; on two connections at once, half of the rows each: "
                         f"{run['floor']['voters_insert_select_2']['seconds']:.1f} s, **{rate(run['floor']['voters_insert_select_2']):,.0f} rows/s**. "
                         f"The first import reaches {run['floor']['voters_insert_select']['seconds'] / run['first']['seconds']:.0%} of the first and "
                         f"{run['floor']['voters_insert_select_2']['seconds'] / run['first']['seconds']:.0%} of the second."
                         for run in results["runs"] if "voters_insert_select_2" in run["floor"]] + [""]
        lines += ["CPU during each run (% of one core over the run's wall time):", ""]
        for run in results["runs"]:
            for label, r in [("first import", run["first"]), ("re-import", run.get("again"))]:
                if r:
                    lines.append(f"- {run['rows']:,} rows, {label}: {r['profile']}")
        if "s3" in results:
            lines.append(f"- S3 store: {results['s3']['profile']}")
        lines += perf_lines(results["runs"][0]["first"].get("perf"))
    if mode == "export":
        r = results
        lines += ["### Voter export (`POST /exports {kind: voters}` until succeeded) over the imported 1,000,000 voters", "",
                  f"{r['rows']:,} rows, {r['bytes'] / 1e6:.0f} MB of CSV to the local store in {r['seconds']:.1f} s: **{rate(r):,.0f} rows/s**, "
                  f"worker peak RSS {r['rss_mb']:.0f} MB (targets: ≥ 200,000 rows/s, < 300 MB). {r['profile']}.", ""]
    if mode == "lists":
        lines += [f"### List population from criteria over the {results['voters']:,} imported voters", "",
                  "`POST /lists` with criteria, timed until `GET /lists/{id}` shows the population `succeeded` (one `fieldwork work`, "
                  "shipped `pipelines/list-population.yaml`), after a `VACUUM (ANALYZE) voters` "
                  f"({results.get('vacuum_seconds', 0):.1f} s) so that autovacuum's pass over the imported voters does not run beside them. "
                  "Target ≥ 200,000 members/s for 500,000 of 1,000,000.", "",
                  "| criteria | members | seconds | members/s | worker peak RSS MB | CPU |", "|---|---|---|---|---|---|"]
        for r in results["runs"]:
            lines.append(f"| `{r['label']}` | {r['members']:,} | {r['seconds']:.1f} | {r['members'] / r['seconds']:,.0f} | {r['rss_mb']:.0f} | "
                         f"{r['profile']} |")
        lines.append("")
    if mode == "summary":
        r = results
        lines += [f"### Field summary over {r['interactions']:,} interactions in 90 days", "",
                  f"The import's org (1,000,000 voters, 40 canvassers, the lists above): {r['interactions']:,} interactions spread "
                  f"over 90 days inserted by SQL (`generate_series`, replica mode: no per-row foreign-key checks or trigger) in "
                  f"{r['fill_seconds']:.0f} s, then `VACUUM ANALYZE`; the rollup (`POST /internal/schedules/field-rollup/trigger`, "
                  f"{r['rollup_jobs']} job(s)) took {r['rollup_seconds']:.1f} s. Then {r['n']} sequential "
                  f"`GET /metrics/field/summary?from=<today-89>&to=<today>` with the admin's token over loopback (at most 200, stopped after 90 s) after 5 warm-up "
                  f"requests ({r['attempts']:,} attempts in range): **p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms**, max {r['max']:.1f} ms. "
                  "Target p99 < 50 ms.", "",
                  f"Then 50,000 interactions of today received after the rollup (a day's work of 40 canvassers, read raw until the "
                  f"next run), {r['live_n']} requests the same way: p50 {r['live_p50']:.1f} ms, p99 {r['live_p99']:.1f} ms, "
                  f"max {r['live_max']:.1f} ms.", ""]
    return lines
