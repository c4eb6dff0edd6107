"""`ops/bench ablation`: what each part of the job ledger's write path costs the no-op benchmark.

The same drain as `ops/bench jobs` (100,000 no-op jobs over HTTP, one worker process), on a scratch
ledger from which one part has been removed after migrating (an index, the count triggers), or with
more slots. Not a configuration to ship: removing a listing index slows the operator routes, and
removing the count triggers leaves the status pages' counts stale. It measures what those parts
cost, to choose what to redesign. Variants run in turn, `BENCH_REPEATS` times (default 2); the
machine's CPU (all processes, from /proc/stat) is reported next to the per-process figures, which
miss the bench's own `psql` processes and the kernel."""
import os
import time

import bench

LISTING = "DROP INDEX jobs_args_idx; DROP INDEX jobs_state_created_idx; DROP INDEX jobs_org_created_idx; DROP INDEX jobs_pipeline_created_idx;"
COUNTS = "DROP TRIGGER jobs_counts_update ON jobs; DROP TRIGGER jobs_counts_insert ON jobs;"

# name -> (what it removes or changes, SQL run on the scratch ledger after migrating, worker environment)
VARIANTS = {
    "ledger as shipped": ("nothing", "", {}),
    "no count triggers": ("the statement triggers keeping `job_state_counts` (insert, update)", COUNTS, {}),
    "no args index": ("the GIN index behind the dashboard's argument filter", "DROP INDEX jobs_args_idx;", {}),
    "no listing indexes": ("the four listing indexes (state, org, pipeline, args)", LISTING, {}),
    "neither": ("the listing indexes and the count triggers", LISTING + COUNTS, {}),
    "256 slots": ("nothing; `WORKER_CONCURRENCY=256` instead of 128", "", {"WORKER_CONCURRENCY": "256"}),
}


def machine_busy():
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def drain_once(name, total=100_000, orgs=10):
    _, sql, env = VARIANTS[name]
    world = bench.World(workers=1, env=dict(bench.WORKER_ENV, **env))
    try:
        ids = world.make_orgs(orgs)
        if sql:
            bench.psql(sql, world.db)
        time.sleep(1.5)
        # The count triggers may be gone: poll the ledger itself, at most every 0.2 s.
        last = {"at": 0.0, "n": 0}

        def done():
            if time.time() - last["at"] > 0.2:
                last["n"] = int(world.session.scalar("SELECT count(*) FROM jobs WHERE state = 'succeeded'"))
                last["at"] = time.time()
            return last["n"]

        busy, all_ = machine_busy()
        result = bench.postgres_cost(lambda: bench.drain(1, total, world.pids, lambda: world.enqueue("noop", total // orgs, ids), done), total)
        busy2, all2 = machine_busy()
        result["machine_busy"] = (busy2 - busy) / (all2 - all_)
        return result
    finally:
        world.close()


def run():
    repeats = int(os.environ.get("BENCH_REPEATS", "2"))
    rows = {name: [] for name in VARIANTS}
    for _ in range(repeats):
        for name in VARIANTS:
            result = drain_once(name)
            rows[name].append(result)
            print(f"{name}: {result['rate']:.0f} jobs/s, Postgres {result['pg_cpu_us_per_job']:.0f} µs/job, "
                  f"WAL {result['wal_bytes_per_job']:.0f} B/job, machine {100 * result['machine_busy']:.0f} % busy", flush=True)
    return rows


def markdown(rows):
    mean = lambda runs, key: sum(r[key] for r in runs) / len(runs)  # noqa: E731
    base = mean(rows["ledger as shipped"], "rate")
    out = ["### No-op jobs with parts of the ledger removed (1 worker process, 100,000 jobs, runs in turn)", "",
           "| variant | removed or changed | jobs/s (each run) | mean vs shipped | Postgres CPU µs/job | WAL bytes/job | machine busy |",
           "|---|---|---|---|---|---|---|"]
    for name, runs in rows.items():
        rates = ", ".join(f"{r['rate']:,.0f}" for r in runs)
        out.append(f"| {name} | {VARIANTS[name][0]} | {rates} | {mean(runs, 'rate') / base - 1:+.0%} | "
                   f"{mean(runs, 'pg_cpu_us_per_job'):.0f} | {mean(runs, 'wal_bytes_per_job'):,.0f} | {100 * mean(runs, 'machine_busy'):.0f} % |")
    return out
