#!/usr/bin/env python3
"""Fieldwork orchestrator benchmarks (called by ops/bench). Each run uses a scratch database and
Redis key prefix of its own, a `fieldwork serve` for enqueueing over HTTP, and `fieldwork work`
processes; Sidekiq runs on the same Redis as the baseline."""
import json, os, random, re, subprocess, sys, threading, time, urllib.request, urllib.error

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1]
WHAT = sys.argv[2] if len(sys.argv) > 2 else "all"
MAIN_DB = os.environ["DATABASE_URL"]
REDIS_URL = os.environ["REDIS_URL"]
REDIS_PORT = REDIS_URL.rsplit(":", 1)[1].split("/")[0]
PORT = int(os.environ.get("BENCH_PORT", "18282"))
CLK = os.sysconf("SC_CLK_TCK")


def psql(sql, db=None):
    return subprocess.run(["psql", "-Atq", "-v", "ON_ERROR_STOP=1", db or MAIN_DB], input=sql, check=True, capture_output=True, text=True).stdout.strip()


def redis_cli(*args, db=0):
    return subprocess.run(["redis-cli", "-p", REDIS_PORT, "-n", str(db), *args], check=True, capture_output=True, text=True).stdout.strip()


class PsqlSession:
    """One `psql` kept open for polls: a `psql` process (and a Postgres backend) forked per poll, 20 times a second,
    took CPU from the two cores the drain runs on (measured: 4,406-4,755 jobs/s against 5,186-5,632 with this)."""

    def __init__(self, db):
        self.process = subprocess.Popen(["psql", "-Atq", "-v", "ON_ERROR_STOP=1", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)

    def scalar(self, sql):
        self.process.stdin.write(sql.rstrip().rstrip(";") + ";\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"psql ended while answering: {sql}")
        return line.strip()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


class RedisSession:
    """One Redis connection kept open for polls (the same reason as `PsqlSession`, for Sidekiq's counter)."""

    def __init__(self, db):
        import socket
        self.socket = socket.create_connection(("127.0.0.1", int(REDIS_PORT)))
        self.reader = self.socket.makefile("rb")
        self.command("SELECT", str(db))

    def command(self, *args):
        self.socket.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args]))
        line = self.reader.readline().rstrip(b"\r\n")
        if line[:1] == b"$":
            size = int(line[1:])
            return None if size < 0 else self.reader.read(size + 2)[:-2].decode()
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line[1:].decode()

    def close(self):
        self.socket.close()


def cpu_seconds(pids):
    """User and system CPU of `pids`, with that of their children that ended (a psql session's backend)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except OSError:
            pass
    return total / CLK


def cpu_by_group(pids, now=None):
    """CPU seconds of each group of `pids` ({name: [pid]}); with `now` (the groups' pids at the end of a run) the processes
    born during the run count too, such as a backend a pool opened mid-run. One that ended meanwhile is counted by its
    parent's children's time."""
    return {k: cpu_seconds(sorted(set(v) | set((now or {}).get(k, [])))) for k, v in pids.items()}


def pids_of(user=None, name=None):
    args = ["pgrep"] + (["-u", user] if user else []) + ([name] if name else [])
    out = subprocess.run(args, capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


class World:
    """A scratch ledger, a server, and workers."""

    def __init__(self, workers=1, env=None):
        self.name = f"bench_{int(time.time())}_{random.randint(0, 99999)}"
        psql(f"CREATE DATABASE {self.name}")
        self.db = MAIN_DB.rsplit("/", 1)[0] + "/" + self.name
        psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", self.db)
        self.env = dict(os.environ, DATABASE_URL=self.db, REDIS_KEY_PREFIX=f"fwbench:{self.name}:", LOG_LEVEL="warning",
                        HOST="127.0.0.1", PORT=str(PORT), **(env or {}))
        self.log = open(os.path.join(os.environ["FIELDWORK_DATA"], f"{self.name}.log"), "w")
        self.server = subprocess.Popen([BIN, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        self.token = self.post("/api/v1/internal/auth/login", {"email": "staff@demo.fieldwork.test", "password": "fieldwork-staff-demo"})["accessToken"]
        self.workers = [subprocess.Popen([BIN, "work"], env=self.env, stdout=self.log, stderr=self.log) for _ in range(workers)]
        self.orgs = []
        self.session = PsqlSession(self.db)

    def post(self, path, body, token=None):
        request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def make_orgs(self, n):
        values = ",".join(f"(gen_random_uuid(), 'Bench {i}', 'bench-{i}-{random.randint(0, 10**9)}', 'America/Chicago')" for i in range(n))
        self.orgs = psql(f"INSERT INTO organizations (id, name, slug, timezone) VALUES {values} RETURNING id", self.db).split()
        return self.orgs

    def enqueue(self, pipeline, count, orgs=None, args=None):
        body = {"pipeline": pipeline, "count": count}
        if orgs: body["orgIds"] = orgs
        if args: body["args"] = args
        return self.post("/api/v1/internal/diagnostics/jobs", body, self.token)["enqueued"]

    def count(self, state="succeeded"):
        # The trigger-kept counts: polling count(*) over the ledger every 50 ms cost Postgres 12 % of a core.
        return int(self.session.scalar(f"SELECT COALESCE(sum(n), 0) FROM job_state_counts WHERE state = '{state}'"))

    def pids(self):
        return {"fieldwork serve": [self.server.pid], "fieldwork work": [w.pid for w in self.workers],
                "postgres": pids_of(user="postgres"), "redis-server": pids_of(name="redis-server")}

    def close(self):
        self.session.close()
        for p in self.workers + [self.server]:
            p.terminate()
        for p in self.workers + [self.server]:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        keys = subprocess.run(["redis-cli", "-p", REDIS_PORT, "--scan", "--pattern", f"fwbench:{self.name}:*"], capture_output=True, text=True).stdout.split()
        for i in range(0, len(keys), 500):
            redis_cli("DEL", *keys[i:i + 500])


def profile(before, after, seconds):
    parts = [f"{name} {100 * (after[name] - before[name]) / seconds:.0f}%" for name in before]
    return "CPU (% of one core): " + ", ".join(parts)


WORKER_ENV = {"WORKER_CONCURRENCY": "128"}
# Jobs per enqueue request of the no-op drain (1,000: Sidekiq's `push_bulk` slices; 100000: one request for all, the
# shape before 2026-12-07, a 100,000-row insert the drain waited for).
ENQUEUE_BATCH = int(os.environ.get("BENCH_ENQUEUE_BATCH", "1000"))


def drain(workers, total, pids, enqueue, done):
    """Times `enqueue` plus the wait until `done()` reaches `total`, with the CPU each process used (`pids()`: the
    processes by group, asked at the start and at the end)."""
    at_start = pids()
    before = cpu_by_group(at_start)
    start = time.time()
    enqueue()
    enqueued = time.time() - start
    while done() < total:
        time.sleep(0.05)
        if time.time() - start > 600:
            raise RuntimeError("timed out")
    elapsed = time.time() - start
    after = cpu_by_group(at_start, pids())
    return {"workers": workers, "jobs": total, "seconds": elapsed, "rate": total / elapsed, "enqueue_seconds": enqueued,
            "profile": profile(before, after, elapsed)}


def wal_bytes():
    return int(psql("SELECT wal_bytes FROM pg_stat_wal"))


def postgres_cost(run, total):
    """Runs `run()` and adds what Postgres spent per job: CPU microseconds (all its processes) and WAL bytes."""
    pg = pids_of(user="postgres")
    cpu, wal = cpu_seconds(pg), wal_bytes()
    result = run()
    result["pg_cpu_us_per_job"] = (cpu_seconds(pids_of(user="postgres")) - cpu) * 1e6 / total
    result["wal_bytes_per_job"] = (wal_bytes() - wal) / total
    return result


def throughput(workers, total=100_000, orgs=10):
    world = World(workers=workers, env=WORKER_ENV)
    try:
        ids = world.make_orgs(orgs)
        time.sleep(1.5)
        per_org = total // orgs
        psql("SELECT pg_stat_statements_reset()", world.db)
        # One request after another (`ENQUEUE_BATCH` jobs each), so workers start while the rest is enqueued.
        def enqueue():
            for _ in range(total // ENQUEUE_BATCH):
                world.enqueue("noop", ENQUEUE_BATCH // orgs, ids)
        result = postgres_cost(lambda: drain(workers, total, world.pids, enqueue, world.count), total)
        # The claim and the completion both open with the same `WITH input AS (…)`: the label starts after it.
        top = psql("""SELECT round(total_exec_time::numeric, 0) || ' ms in ' || calls || ' calls: '
                             || left(regexp_replace(regexp_replace(query, '^WITH input AS \\(SELECT \\* FROM unnest\\([^)]*\\) AS t\\([^)]*\\)\\),', ''),
                                                    '\\s+', ' ', 'g'), 90)
                      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                      ORDER BY total_exec_time DESC LIMIT 5""", world.db)
        result["top_statements"] = top.splitlines()
        return result
    finally:
        world.close()


def floor(total=100_000, batch=1000):
    """The floor of the ledger's writes: one insert and one update per job, in batches of `batch` (one
    transaction each), issued straight from psql on a table with only a primary key."""
    name = f"bench_floor_{random.randint(0, 99999)}"
    psql(f"CREATE DATABASE {name}")
    db = MAIN_DB.rsplit("/", 1)[0] + "/" + name
    try:
        psql("CREATE TABLE ledger (id uuid PRIMARY KEY, state text NOT NULL, run_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)", db)
        script = []
        for start in range(0, total, batch):
            script.append(f"INSERT INTO ledger (id, state) SELECT gen_random_uuid(), 'queued' FROM generate_series(1, {batch});")
        for start in range(0, total, batch):
            script.append(f"UPDATE ledger SET state = 'succeeded', finished_at = now() WHERE id IN "
                          f"(SELECT id FROM ledger WHERE state = 'queued' LIMIT {batch});")
        sql = "\n".join(script)

        def run():
            started = time.time()
            psql(sql, db)
            elapsed = time.time() - started
            return {"jobs": total, "seconds": elapsed, "rate": total / elapsed}
        return postgres_cost(run, total)
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sidekiq(processes, total=100_000):
    if subprocess.run(["which", "sidekiq"], capture_output=True).returncode != 0:
        return None
    db = 7
    url = f"redis://127.0.0.1:{REDIS_PORT}/{db}"
    redis_cli("FLUSHDB", db=db)
    script = os.path.join(ROOT, "ops", "benchmarks", "sidekiq_noop.rb")
    env = dict(os.environ, SIDEKIQ_REDIS_URL=url, RUBYOPT="-W0")
    log = open(os.path.join(os.environ["FIELDWORK_DATA"], "sidekiq.log"), "w")
    procs = [subprocess.Popen(["sidekiq", "-r", script, "-c", "10"], env=env, stdout=log, stderr=log) for _ in range(processes)]
    try:
        for _ in range(200):
            if int(redis_cli("SCARD", "processes", db=db) or 0) >= processes:
                break
            time.sleep(0.1)
        time.sleep(1)
        def pids():
            return {"sidekiq": [p.pid for p in procs], "redis-server": pids_of(name="redis-server")}
        session = RedisSession(db)
        try:
            # Done once the queue is empty: its jobs have all been fetched (at most 10 per process still running, each a
            # no-op). `stat:processed` is no clock: Sidekiq adds to it at its heartbeat, every 5 s, which made the
            # drain's measured end jump between 9 and 14 s for the same run (11,000 or 7,000 jobs/s, 2026-12-07).
            result = drain(processes, total, pids,
                           lambda: subprocess.run(["ruby", "-r", script, "-e", ""], env=dict(env, SIDEKIQ_ENQUEUE=str(total)), check=True),
                           lambda: total - int(session.command("LLEN", "queue:default") or 0))
            for _ in range(200):
                if int(session.command("GET", "stat:processed") or 0) >= total:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("sidekiq: the queue emptied but not every job was processed")
            return result
        finally:
            session.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        redis_cli("FLUSHDB", db=db)


def percentiles(world, where):
    row = psql(f"""SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY l), percentile_cont(0.99) WITHIN GROUP (ORDER BY l), max(l)
                   FROM (SELECT extract(epoch FROM a.started_at - j.created_at) * 1000 AS l
                         FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = 1 WHERE {where}) t""", world.db)
    n, p50, p99, top = row.split("|")
    return {"n": int(n), "p50": float(p50), "p99": float(p99), "max": float(top)}


def paced(world, rate_per_s, seconds, batch, orgs):
    """Enqueues `batch` jobs per request at `rate_per_s` jobs/s for `seconds` (open loop)."""
    interval = batch / rate_per_s
    start = time.time()
    sent = 0
    n = 0
    while time.time() - start < seconds:
        target = start + n * interval
        delay = target - time.time()
        if delay > 0:
            time.sleep(delay)
        sent += world.enqueue("noop", batch, orgs)
        n += 1
    return sent


def latency(rate=1000, seconds=20):
    world = World(workers=2)
    try:
        ids = world.make_orgs(10)
        time.sleep(1.5)
        sent = paced(world, rate, seconds, 10, [ids[0]])
        while world.count() < sent:
            time.sleep(0.1)
        return {"rate": rate, "seconds": seconds, **percentiles(world, "true")}
    finally:
        world.close()


def noisy(flood=100_000, quiet_rate=20):
    world = World(workers=2)
    try:
        loud, quiet = world.make_orgs(2)
        time.sleep(1.5)
        world.enqueue("noop", flood, [loud])
        flood_committed = time.time()
        result = {}
        sent = paced(world, quiet_rate, 8, 1, [quiet])
        result["backlog_left_when_quiet_stopped"] = world.count("queued")
        while world.count() < flood + sent:
            time.sleep(0.1)
        result.update(percentiles(world, f"j.org_id = '{quiet}'"))
        result["flood"] = flood
        result["quiet_rate"] = quiet_rate
        return result
    finally:
        world.close()


BENCH_PIPELINES = ["noop", "sleep", "fail", "voter-import", "list-populate", "metric-rollup", "export", "geocode", "dedupe", "notify"]


def timed_get(world, path, n):
    samples = []
    for _ in range(n):
        request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"authorization": f"Bearer {world.token}"})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"n": n, "p50": samples[n // 2], "p99": samples[min(n - 1, int(n * 0.99))], "max": samples[-1]}


def operator(total=1_000_000, n=300):
    directory = os.path.join(os.environ["FIELDWORK_DATA"], "bench-pipelines")
    os.makedirs(directory, exist_ok=True)
    for name in BENCH_PIPELINES:
        open(os.path.join(directory, f"{name}.yaml"), "w").write(f"name: {name}\n")
    world = World(workers=0, env={"PIPELINES_DIR": directory})
    try:
        world.make_orgs(100)
        start = time.time()
        pipes = "ARRAY[" + ",".join(f"'{p}'" for p in BENCH_PIPELINES) + "]"
        psql(f"""
            WITH o AS (SELECT array_agg(id ORDER BY id) AS ids FROM organizations),
            g AS (
                SELECT i, (SELECT ids FROM o)[1 + i % 100] AS org, ({pipes})[1 + (i / 7) % 10] AS pipeline,
                       CASE WHEN i % 100 < 80 THEN 'succeeded' WHEN i % 100 < 85 THEN 'dead' WHEN i % 100 < 87 THEN 'discarded'
                            WHEN i % 100 < 88 THEN 'cancelled' WHEN i % 100 < 93 THEN 'queued' WHEN i % 100 < 96 THEN 'scheduled'
                            WHEN i % 100 < 98 THEN 'retrying' ELSE 'running' END AS state,
                       now() - i * interval '2500 milliseconds' AS created
                FROM generate_series(1, {total}) i
            )
            INSERT INTO jobs (id, org_id, pipeline, state, priority, attempt, max_attempts, run_at, lease_owner, lease_token, lease_expires_at,
                              last_error, error_fingerprint, created_at, started_at, finished_at, updated_at)
            SELECT gen_random_uuid(), org, pipeline, state, 0,
                   CASE WHEN state IN ('queued', 'scheduled') THEN 0 WHEN state = 'dead' THEN 3 ELSE 1 END, 3,
                   CASE WHEN state = 'scheduled' THEN now() + interval '1 hour' ELSE created END,
                   CASE WHEN state = 'running' THEN 'bench-worker' END, CASE WHEN state = 'running' THEN gen_random_uuid() END,
                   CASE WHEN state = 'running' THEN now() + interval '1 hour' END,
                   CASE WHEN state IN ('dead', 'retrying') THEN 'row ' || i || ' failed: error kind ' || (i % 20) END,
                   CASE WHEN state IN ('dead', 'retrying') THEN 'fp' || (i % 20) END,
                   created, CASE WHEN state NOT IN ('queued', 'scheduled') THEN created + interval '1 second' END,
                   CASE WHEN state IN ('succeeded', 'dead', 'discarded', 'cancelled') THEN created + interval '2 seconds' END, created
            FROM g""", world.db)
        psql("""INSERT INTO job_attempts (job_id, attempt, pipeline, org_id, worker_id, lease_token, started_at, finished_at, outcome, error)
                SELECT id, 1, pipeline, org_id, 'bench-worker', gen_random_uuid(), started_at, finished_at,
                       CASE state WHEN 'succeeded' THEN 'succeeded' WHEN 'cancelled' THEN 'cancelled' WHEN 'running' THEN NULL ELSE 'failed' END,
                       last_error
                FROM jobs WHERE started_at IS NOT NULL""", world.db)
        psql("VACUUM ANALYZE", world.db)
        fill = time.time() - start
        result = {"jobs": total, "fill_seconds": fill}
        for label, path in [("pipelines", "/api/v1/internal/pipelines"), ("dead jobs", "/api/v1/internal/jobs?state=dead"),
                            ("dead letters", "/api/v1/internal/dead-letters")]:
            timed_get(world, path, 20)
            result[label] = timed_get(world, path, n)
        return result
    finally:
        world.close()


def wrk(script, path, connections, seconds, extra_env=None):
    """Runs wrk with a Lua script; returns req/s and latency percentiles (ms)."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, f"http://127.0.0.1:{PORT}{path}"],
                         capture_output=True, text=True, env=dict(os.environ, **(extra_env or {}))).stdout
    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        if not m: return None
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(rate.group(1)) if rate else 0, "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0, "raw": out}


def voters_bench(big=1_000_000, small=100_000, others=10, seconds=15):
    world = World(workers=0)
    try:
        staff = world.token
        def make_org(tag):
            slug = f"bench-{tag}-{random.randint(0, 10**9)}"
            body = {"name": f"Bench {tag}", "slug": slug, "timezone": "America/Chicago",
                    "admin": {"email": f"admin@{slug}.test", "name": "Bench Admin", "password": "bench-password"}}
            org = world.post("/api/v1/internal/organizations", body, staff)["org"]["id"]
            token = world.post("/api/v1/auth/login", {"email": f"admin@{slug}.test", "password": "bench-password"})["accessToken"]
            return org, token
        big_org, token = make_org("big")
        start = time.time()
        def fill(org, n):
            psql(f"""INSERT INTO voters (org_id, external_id, first_name, last_name, birth_year, party, parish, precinct, res_house_number,
                                         res_street_name, res_zip5, status)
                     SELECT '{org}', 'LA' || lpad(i::text, 9, '0'), (ARRAY['John','Mary','Luis','Ana','Wei','Fatima','Jean','Kim'])[1 + i % 8],
                            (ARRAY['Smith','Boudreaux','Nguyen','Garcia','Johnson','Thibodeaux','Williams','Landry','Brown','Hebert'])[1 + (i / 8) % 10] || (i % 1000),
                            1940 + i % 65, (ARRAY['DEM','REP','NOPTY','LBT'])[1 + i % 4], 'Parish ' || (i % 64), 'P' || (i % 4000),
                            (1 + i % 9999)::text, 'Street ' || (i % 2000), lpad((70000 + i % 1500)::text, 5, '0'),
                            CASE WHEN i % 10 = 0 THEN 'inactive' ELSE 'active' END
                     FROM generate_series(1, {n}) i""", world.db)
        fill(big_org, big)
        for k in range(others):
            fill(make_org(f"o{k}")[0], small)
        psql("VACUUM ANALYZE voters", world.db)
        fill_seconds = time.time() - start
        # Bulk bodies draw from 50,000 voters: with 2,000, concurrent batches queued on the same voters' latest-result rows.
        voter_ids = psql(f"SELECT id FROM voters WHERE org_id = '{big_org}' ORDER BY random() LIMIT 50000", world.db).split()
        # Paths: first pages, filtered pages, and deep pages (cursors taken by walking the id order).
        deep = psql(f"SELECT id FROM voters WHERE org_id = '{big_org}' ORDER BY id OFFSET 500000 LIMIT 1", world.db)
        import base64
        cursor = base64.urlsafe_b64encode(json.dumps([deep.upper()]).encode()).decode().rstrip("=")
        paths = {
            "first page": ["/api/v1/voters?limit=50"],
            "deep page (cursor at 500,000)": [f"/api/v1/voters?limit=50&cursor={cursor}"],
            "filtered (precinct, party, status)": [f"/api/v1/voters?limit=50&precinct=P{i}&party=DEM&status=active" for i in range(0, 4000, 37)],
            "name prefix search": [f"/api/v1/voters?limit=50&q={n}" for n in ["smith1", "boud", "nguyen4", "garcia12", "thibodeaux9", "landry77"]],
        }
        directory = os.path.join(os.environ["FIELDWORK_DATA"], "wrk")
        os.makedirs(directory, exist_ok=True)
        results = {"voters": big + small * others, "fill_seconds": fill_seconds, "get": {}, "bulk": {}}
        # BENCH_SKIP_GET=1 measures the bulk route alone (profiling runs).
        for label, group in ([] if os.environ.get("BENCH_SKIP_GET") == "1" else paths.items()):
            script = os.path.join(directory, "get.lua")
            open(script, "w").write("paths = {" + ",".join(json.dumps(p) for p in group) + "}\n"
                                    f'token = "{token}"\n' + GET_LUA)
            results["get"][label] = {"max": wrk(script, "/", 16, seconds)}
            paced = os.path.join(directory, "get-paced.lua")
            open(paced, "w").write(open(script).read() + RATE_LUA)
            results["get"][label]["paced"] = wrk(paced, "/", 16, seconds, {"WRK_RATE": str(TARGET_RATE)})
        bulk = os.path.join(directory, "bulk.lua")
        open(bulk, "w").write("voters = {" + ",".join(json.dumps(v) for v in voter_ids) + "}\n" + f'token = "{token}"\n' + BULK_LUA)
        # A warm-up, then statistics for the table it filled: analyzed empty, the duplicate check would scan it.
        wrk(bulk, "/api/v1/interactions/bulk", 16, 3)
        psql("ANALYZE interactions", world.db)
        psql("SELECT pg_stat_statements_reset()", world.db)
        results["bulk"]["max"] = wrk(bulk, "/api/v1/interactions/bulk", 16, seconds)
        # Postgres's time per request of the saturated run, by statement.
        requests = max(1.0, results["bulk"]["max"]["rps"] * seconds)
        results["bulk"]["statements"] = psql(f"""SELECT round((total_exec_time / {requests})::numeric, 2) || ' ms/request, '
                                                    || round((calls / {requests})::numeric, 1) || ' calls/request: '
                                                    || left(regexp_replace(query, '\s+', ' ', 'g'), 100)
                                             FROM pg_stat_statements
                                             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                                             ORDER BY total_exec_time DESC LIMIT 8""", world.db).splitlines()
        results["bulk"]["floor"] = bulk_floor(world.db, big_org, voter_ids, directory, 16, seconds)
        paced = os.path.join(directory, "bulk-paced.lua")
        open(paced, "w").write(open(bulk).read() + RATE_LUA)
        results["bulk"]["paced"] = wrk(paced, "/api/v1/interactions/bulk", 16, seconds, {"WRK_RATE": str(TARGET_RATE)})
        # The same with each batch from one walk list (100 consecutive voters of the pool, as a canvasser's turf): the
        # random batches above share voters across the 16 in-flight requests, whose latest-result rows then queue.
        turf = os.path.join(directory, "bulk-turf.lua")
        open(turf, "w").write(open(bulk).read().replace("voters[math.random(1, #voters)]", "voters[start + i]")
                              .replace("local items = {}", "local items = {}\n  local start = math.random(0, #voters - 100)"))
        results["bulk"]["turf"] = wrk(turf, "/api/v1/interactions/bulk", 16, seconds)
        # Retry storm: 10 clients resubmit the same 10,000 interactions in batches of 100.
        items = [{"clientInteractionUuid": str(__import__("uuid").uuid4()), "voterId": random.choice(voter_ids), "channel": "door",
                  "result": "not_home", "occurredAt": "2026-11-21T15:00:00Z"} for _ in range(10_000)]
        before = int(psql(f"SELECT count(*) FROM interactions WHERE org_id = '{big_org}'", world.db))
        def client(seed):
            order = list(range(0, 10_000, 100))
            random.Random(seed).shuffle(order)
            for start_index in order:
                world.post("/api/v1/interactions/bulk", {"interactions": items[start_index:start_index + 100]}, token)
        storm_start = time.time()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(10)]
        for t in threads: t.start()
        for t in threads: t.join()
        storm = time.time() - storm_start
        uuids = "','".join(i["clientInteractionUuid"] for i in items)
        rows = int(psql(f"SELECT count(*) FROM interactions WHERE org_id = '{big_org}' AND client_interaction_uuid IN ('{uuids}')", world.db))
        results["storm"] = {"seconds": storm, "rows": rows, "requests": 1000}
        return results
    finally:
        world.close()


def bulk_floor(db, org, voter_ids, directory, clients, seconds):
    """The floor of the bulk route: its interaction `INSERT` alone (100 new rows over the same voter pool, with the
    table's indexes, checks and triggers, one transaction each), from `pgbench` with as many clients as `wrk` has
    connections, so no HTTP, JSON, authentication, fact reads or answers. What it reaches is Postgres's ceiling for
    the route on this machine."""
    canvasser = psql(f"SELECT user_id FROM memberships WHERE org_id = '{org}' ORDER BY created_at LIMIT 1", db)
    psql("CREATE TABLE bench_pool (i int PRIMARY KEY, id uuid NOT NULL);\n"
         "INSERT INTO bench_pool SELECT o - 1, v FROM unnest('{" + ",".join(voter_ids) + "}'::uuid[]) WITH ORDINALITY AS t(v, o);", db)
    script = os.path.join(directory, "bulk-floor.sql")
    open(script, "w").write(
        "\\set r random(0, 1000000000)\n"
        "INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at) "
        f"SELECT '{org}', gen_random_uuid(), p.id, '{canvasser}', 'door', 'not_home', '2026-11-21T15:00:00Z' "
        f"FROM generate_series(1, 100) g JOIN bench_pool p ON p.i = (g * 7919 + :r) % {len(voter_ids)} "
        "ON CONFLICT (org_id, client_interaction_uuid) DO NOTHING RETURNING client_interaction_uuid, id;\n")
    prefix = os.path.join(directory, "bulk-floor-log")
    for old in os.listdir(directory):
        if old.startswith("bulk-floor-log"): os.remove(os.path.join(directory, old))
    out = subprocess.run(["pgbench", "-n", f"-c{clients}", "-j2", f"-T{seconds}", "-l", f"--log-prefix={prefix}", "-f", script, db],
                         capture_output=True, text=True, cwd=directory)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stderr.strip()}")
    latencies = sorted(int(line.split()[2]) / 1000 for name in os.listdir(directory) if name.startswith("bulk-floor-log")
                       for line in open(os.path.join(directory, name)))
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None
    return {"rps": float(tps.group(1)) if tps else len(latencies) / seconds, "p50": pick(0.5), "p99": pick(0.99), "non2xx": 0}


TARGET_RATE = 500

# Constant arrival rate (like wrk2, without its latency correction): each wrk thread hands out send
# slots 1/rate apart and a connection waits for its slot, so the load stays at WRK_RATE req/s as
# long as 16 connections cover rate × latency. Timed with gettimeofday through LuaJIT's ffi.
RATE_LUA = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } fw_timeval;
int gettimeofday(fw_timeval *tv, void *tz);
]]
local tv = ffi.new("fw_timeval")
local function now_ms() ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000 end
local interval = 1000 / (tonumber(os.getenv("WRK_RATE")) / 2)
local next_slot = nil
function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval
  if slot < now then return 0 end
  return slot - now
end
"""

GET_LUA = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {["Authorization"] = "Bearer " .. token})
end
"""

BULK_LUA = """
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
local function uuid()
  return string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end)
end
request = function()
  local items = {}
  for i = 1, 100 do
    items[i] = string.format('{"clientInteractionUuid":"%s","voterId":"%s","channel":"door","result":"not_home","occurredAt":"2026-11-21T15:00:00Z"}',
      uuid(), voters[math.random(1, #voters)])
  end
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"interactions":[' .. table.concat(items, ",") .. ']}')
end
"""


def main():
    results = {}
    if WHAT in ("jobs", "all"):
        for n in (1, 2):
            results[f"fieldwork-{n}"] = throughput(n)
            print(f"fieldwork, {n} worker process(es):", results[f"fieldwork-{n}"], flush=True)
            results[f"sidekiq-{n}"] = sidekiq(n)
            print(f"sidekiq, {n} process(es):", results[f"sidekiq-{n}"], flush=True)
        results["floor"] = floor()
        print("floor (psql, one insert and one update per job, batches of 1,000):", results["floor"], flush=True)
    if WHAT in ("latency", "all"):
        results["latency"] = latency()
        print("latency:", results["latency"], flush=True)
    if WHAT in ("noisy", "all"):
        results["noisy"] = noisy()
        print("noisy neighbour:", results["noisy"], flush=True)
    if WHAT in ("voters", "all"):
        results["voters"] = voters_bench()
        printable = json.loads(json.dumps(results["voters"], default=str))
        for group in printable["get"].values():
            for run in group.values(): run.pop("raw", None)
        for run in printable["bulk"].values():
            if isinstance(run, dict): run.pop("raw", None)
        print("voters:", printable, flush=True)
    if WHAT in ("operator", "all"):
        results["operator"] = operator()
        print("operator routes:", results["operator"], flush=True)
    if WHAT == "ablation":
        write_section("ablation", ledger_ablation.markdown(ledger_ablation.run()))
        return
    modes = WHAT.split(",")
    if set(modes) & set(pipeline_bench.MODES):
        pipelines = pipeline_bench.run(modes)
        json.dump(pipelines, open(os.path.join(os.environ["FIELDWORK_DATA"], "bench-pipelines.json"), "w"), indent=1, default=str)
        for mode in pipeline_bench.MODES:
            if mode in pipelines:
                write_section(mode, pipeline_bench.markdown(mode, pipelines[mode]))
        return
    write(results)


def section_head(mode):
    machine = f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
    load = os.getloadavg()[0]
    return [f"## `ops/bench {mode}`", "",
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine ({machine}, load average {load:.1f} at the end), "
            "release build, Postgres 15 and Redis 7 from `ops/stack` on loopback, shipped `pipelines/*.yaml`. Command: "
            f"`ops/bench {WHAT}`.", ""]


def write_section(mode, body):
    """Puts `mode`'s section into docs/benchmarks.md, replacing an older one."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    heading = f"## `ops/bench {mode}`"
    section = "\n".join(section_head(mode) + body)
    pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip() + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    open(path, "w").write(text.rstrip() + "\n")
    print(f"{mode} written to {path}")


def write(results):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    machine = f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
    heading = f"## `ops/bench {WHAT}`"
    lines = [heading, "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine ({machine}), release build, "
             "Postgres 15 and Redis 7 from `ops/stack` on loopback, shipped `pipelines/*.yaml`. Command: "
             f"`ops/bench {WHAT}`.", ""]
    if any(k.startswith("fieldwork-") for k in results):
        lines += ["### No-op jobs end to end (enqueue 100,000 over HTTP, until all succeeded)", "",
                  "| system | worker processes | seconds | jobs/s | enqueue part (s) | where the CPU went |", "|---|---|---|---|---|---|"]
        for key in sorted(results):
            r = results[key]
            if not key.startswith(("fieldwork-", "sidekiq-")):
                continue
            if r is None:
                lines.append(f"| {key.split('-')[0]} | {key.split('-')[1]} | not run (ruby-sidekiq missing) | | | |")
                continue
            lines.append(f"| {key.split('-')[0]} | {r['workers']} | {r['seconds']:.1f} | {r['rate']:,.0f} | {r['enqueue_seconds']:.1f} | {r['profile']} |")
        lines += ["", "Postgres's cost per job (CPU of all its processes, WAL from `pg_stat_wal`):", "",
                  "| run | jobs/s | Postgres CPU µs/job | WAL bytes/job |", "|---|---|---|---|"]
        for key in sorted(k for k in results if k.startswith("fieldwork-")):
            r = results[key]
            lines.append(f"| fieldwork, {r['workers']} worker process(es) | {r['rate']:,.0f} | {r['pg_cpu_us_per_job']:.0f} | {r['wal_bytes_per_job']:,.0f} |")
        if results.get("floor"):
            r = results["floor"]
            lines.append(f"| floor: one insert and one update per job from `psql`, batches of 1,000 | {r['rate']:,.0f} | "
                         f"{r['pg_cpu_us_per_job']:.0f} | {r['wal_bytes_per_job']:,.0f} |")
        for key in sorted(k for k in results if k.startswith("fieldwork-")):
            lines += ["", f"Top statements by execution time, {results[key]['workers']} worker process(es) (`pg_stat_statements`):", ""]
            lines += [f"- {line}" for line in results[key].get("top_statements", [])]
        lines += ["", f"Fieldwork's jobs are 10 orgs × 10,000, enqueued {ENQUEUE_BATCH:,} a request ({ENQUEUE_BATCH // 10:,} per org, diagnostics route, "
                  "one request after another); each job is a ledger row with an attempt row, claimed, fenced and completed in "
                  "Postgres. Sidekiq 6 (Debian `ruby-sidekiq`, `-c 10`) pushes with `push_bulk` in slices of 1,000 and keeps "
                  "nothing but Redis.", ""]
    if "latency" in results:
        r = results["latency"]
        lines += [f"### Enqueue → start latency at a steady {r['rate']:,} jobs/s ({r['seconds']} s, 2 workers)", "",
                  f"{r['n']:,} jobs: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms "
                  "(attempt 1 `started_at` − job `created_at`).", ""]
    if "noisy" in results:
        r = results["noisy"]
        lines += ["### Noisy neighbour", "",
                  f"One org floods {r['flood']:,} no-op jobs; a quiet org enqueues {r['quiet_rate']} jobs/s meanwhile "
                  f"({r['backlog_left_when_quiet_stopped']:,} flood jobs were still queued when the quiet org stopped). "
                  f"Quiet org's enqueue → start: {r['n']} jobs, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms. Target p99 < 100 ms.", ""]
    if "operator" in results:
        r = results["operator"]
        lines += [f"### Operator routes over a {r['jobs']:,}-job ledger (10 pipelines, 100 orgs, every state)", "",
                  f"Filled in {r['fill_seconds']:.0f} s by SQL, then `VACUUM ANALYZE`. Sequential requests with a staff token over loopback "
                  "(HTTP included). Target p99 < 100 ms.", "", "| route | requests | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
        for label, route in [("pipelines", "GET /internal/pipelines"), ("dead jobs", "GET /internal/jobs?state=dead"), ("dead letters", "GET /internal/dead-letters")]:
            q = r[label]
            lines.append(f"| `{route}` | {q['n']} | {q['p50']:.1f} | {q['p99']:.1f} | {q['max']:.1f} |")
        lines.append("")
    if "voters" in results:
        r = results["voters"]
        lines += [f"### Campaign routes over {r['voters']:,} voters (1,000,000 in the measured org, 10 other orgs × 100,000)", "",
                  f"Voters filled by SQL in {r['fill_seconds']:.0f} s, then `VACUUM ANALYZE`. Load from `wrk` on loopback (2 threads): "
                  "*max* is 16 connections back to back; *500/s* is a constant arrival rate of 500 requests per second over 16 "
                  "connections (send slots 2 ms apart, `RATE_LUA` in `ops/benchmarks/bench.py`); its req/s falls short of 500 "
                  "only when the server cannot keep up. Target: p99 < 10 ms at 500 req/s.", "",
                  "| request | load | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|"]
        def row(name, load, q):
            lines.append(f"| {name} | {load} | {q['rps']:,.0f} | {q['p50'] or 0:.1f} | {q['p99'] or 0:.1f} | {q['non2xx']} |")
        for label, runs in r["get"].items():
            row(f"`GET /voters?limit=50` {label}", "max", runs["max"])
            row(f"`GET /voters?limit=50` {label}", "500/s", runs["paced"])
        row("`POST /interactions/bulk` (100 new items)", "max", r["bulk"]["max"])
        row("`POST /interactions/bulk` (100 new items)", "500/s", r["bulk"]["paced"])
        if "turf" in r["bulk"]:
            row("`POST /interactions/bulk` (100 new items, each batch one walk list's voters)", "max", r["bulk"]["turf"])
        if "floor" in r["bulk"]:
            row("floor: the route's interaction `INSERT` alone (100 new rows) from `pgbench`, 16 clients", "max", r["bulk"]["floor"])
        if r["bulk"].get("statements"):
            lines += ["", "Postgres time per request of the saturated bulk run, by statement (`pg_stat_statements`, top 8):", ""]
            lines += [f"- {line}" for line in r["bulk"]["statements"]]
        st = r["storm"]
        lines += ["", f"Retry storm: 10 clients resubmitting the same 10,000 interactions in batches of 100 ({st['requests']:,} requests) "
                  f"took {st['seconds']:.1f} s and left exactly {st['rows']:,} rows (target 10,000).", ""]
    section = "\n".join(lines)
    pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip() + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    open(path, "w").write(text.rstrip() + "\n")
    print(f"results written to {path}")


if __name__ == "__main__":
    import ledger_ablation
    import pipeline_bench
    main()
