"""The faults, one at a time, each with a worker SIGTERM'd during it, then the drain and the invariant checks."""
import threading
import time

from cluster import stop_words
from invariants import check_invariants, describe_wedge

DRAIN_LIMIT = 150.0
WARM_UP = 6.0


class Context:
    """What one fault measured."""

    def __init__(self):
        self.breaches = []
        self.notes = []
        self.back_at = None  # when the dependency or process was back
        self.outage = False  # a dependency was down (so /ready's recovery is reported)
        self.sigterms = []  # (process, seconds or None)


def busiest_worker(cluster):
    """The worker process holding the most running jobs (lease owners are host:pid:suffix), worker-a if none."""
    pids = {str(p.popen.pid): name for name, p in cluster.processes.items() if name.startswith("worker") and p.alive()}
    try:
        rows = cluster.psql("SELECT split_part(lease_owner, ':', 2), count(*) FROM jobs WHERE state = 'running' GROUP BY 1 ORDER BY 2 DESC")
    except Exception:
        rows = []
    for pid, _count in rows:
        if pid in pids:
            return pids[pid]
    return "worker-a"


def other_worker(name):
    return "worker-b" if name == "worker-a" else "worker-a"


class Fault:
    def __init__(self, name, title, inject, backlog=0):
        # backlog: jobs per org enqueued just before the fault, so claims are in flight and work is queued when it strikes.
        self.name, self.title, self.inject, self.backlog = name, title, inject, backlog


class SigtermDuring:
    """SIGTERMs a process in the background (timing its exit); `restart` waits for it and starts it again."""

    def __init__(self, cluster, ctx, name="worker-b", after=0.0):
        self.cluster, self.ctx, self.name = cluster, ctx, name
        self.thread = threading.Thread(target=self.run, args=(after,), daemon=True)
        self.thread.start()

    def run(self, after):
        time.sleep(after)
        took, in_time = self.cluster.processes[self.name].terminate_measured(self.cluster.stop_limit())
        self.ctx.sigterms.append((self.name, took))
        if not in_time:
            self.ctx.breaches.append(f"{self.name} SIGTERM'd during the fault: " + stop_words(took, self.cluster.grace))

    def restart(self):
        self.thread.join()
        self.cluster.processes[self.name].start()


def kill_worker(cluster, load, monitor, ctx):
    victim = busiest_worker(cluster)
    term = SigtermDuring(cluster, ctx, other_worker(victim), after=0.2)
    cluster.processes[victim].kill9()
    ctx.back_at = monitor.now()
    cluster.processes[victim].start()
    ctx.notes.append(f"{victim} (the one with the most running jobs) killed and restarted at once")
    term.restart()


def kill_api(cluster, load, monitor, ctx):
    phone = load.phones[0]
    big = [item for _ in range(20) for item in phone.new_batch()]
    outcomes = {}

    def submit_big():
        if not load.submit(phone, big):
            with phone.lock:
                phone.pending.insert(0, big)
            outcomes["bulk"] = "cut off"
        else:
            outcomes["bulk"] = "answered"

    def enqueue_big():
        status, _ = load.call("POST", "/internal/diagnostics/jobs", load.staff, {
            "pipeline": "sleep", "count": 300, "orgIds": load.org_ids, "args": {"ms": 50, "record": True}})
        outcomes["enqueue"] = "answered" if isinstance(status, int) else "cut off"

    busiest = busiest_worker(cluster)
    threads = [threading.Thread(target=f, daemon=True) for f in (submit_big, enqueue_big)]
    for thread in threads:
        thread.start()
    time.sleep(0.03)
    monitor.api_gone()
    cluster.processes["api"].kill9()
    term = SigtermDuring(cluster, ctx, busiest, after=0.0)
    for thread in threads:
        thread.join()
    cluster.processes["api"].start()
    cluster.wait_api()
    monitor.api_back()
    ctx.back_at = monitor.now()
    ctx.notes.append(f"in flight at the kill: a 200-item bulk batch ({outcomes.get('bulk')}), "
                     f"a 900-job enqueue ({outcomes.get('enqueue')})")
    term.restart()


def postgres_down(seconds):
    def inject(cluster, load, monitor, ctx):
        ctx.outage = True
        busiest = busiest_worker(cluster)
        index = monitor.outage_begins("postgres")
        cluster.pg_stop(mode="fast")
        term = SigtermDuring(cluster, ctx, busiest, after=min(2.0, seconds / 2))
        time.sleep(seconds)
        monitor.outage_restarting(index)
        cluster.pg_start()
        for _ in range(300):
            if cluster.pg_ready():
                break
            time.sleep(0.1)
        ctx.back_at = monitor.outage_ends(index)
        term.restart()
    return inject


def redis_down(seconds, keep_data):
    def inject(cluster, load, monitor, ctx):
        ctx.outage = True
        busiest = busiest_worker(cluster)
        index = monitor.outage_begins("redis")
        cluster.redis_stop(save=keep_data)
        if not keep_data:
            cluster.redis_wipe()
        term = SigtermDuring(cluster, ctx, busiest, after=min(2.0, seconds / 2))
        time.sleep(seconds)
        monitor.outage_restarting(index)
        cluster.redis_start()
        ctx.back_at = monitor.outage_ends(index)
        term.restart()
    return inject


def flushall(cluster, load, monitor, ctx):
    term = SigtermDuring(cluster, ctx, busiest_worker(cluster), after=0.2)
    cluster.redis("flushall", check=True)
    ctx.back_at = monitor.now()
    term.restart()


BACKLOG = 40

FAULTS = [
    Fault("worker-kill9", "kill -9 of a worker (restarted at once)", kill_worker),
    Fault("api-kill9", "kill -9 of the API mid-request (restarted)", kill_api),
    Fault("pg-5s", "Postgres stopped 5 s", postgres_down(5), backlog=BACKLOG),
    Fault("pg-60s", "Postgres stopped 60 s", postgres_down(60), backlog=BACKLOG),
    Fault("redis-10s", "Redis stopped 10 s (append-only file kept)", redis_down(10, keep_data=True), backlog=BACKLOG),
    Fault("redis-empty", "Redis restarted empty", redis_down(0.5, keep_data=False), backlog=BACKLOG),
    Fault("flushall", "Redis FLUSHALL", flushall, backlog=BACKLOG),
]


def unfinished(cluster):
    rows = cluster.psql("SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded', 'dead', 'discarded', 'cancelled')")
    return int(rows[0][0])


def run_fault(fault, label, cluster, load, monitor):
    """Injects one fault, measures the drain, checks the invariants; prints one line; True when nothing was breached."""
    since = getattr(run_fault, "last_check", 0.0)
    load.jobs_paused.clear()
    time.sleep(WARM_UP)
    if fault.backlog:
        load.call("POST", "/internal/diagnostics/jobs", load.staff, {
            "pipeline": "sleep", "count": fault.backlog, "orgIds": load.org_ids, "args": {"ms": 800, "record": True}})
        time.sleep(1.0)
    began = monitor.now()
    ctx = Context()
    fault.inject(cluster, load, monitor, ctx)
    load.jobs_paused.set()
    drained_after = None
    deadline = ctx.back_at + DRAIN_LIMIT
    while monitor.now() < deadline:
        try:
            if unfinished(cluster) == 0:
                drained_after = monitor.now() - ctx.back_at
                break
        except Exception:
            pass
        time.sleep(0.25)
    if drained_after is None:
        ctx.breaches.append(f"the queue did not drain within {DRAIN_LIMIT:.0f} s of the fault's end: " + describe_wedge(cluster))
    ctx.breaches += check_invariants(cluster, load)
    for name, process in cluster.processes.items():
        if not process.alive():
            ctx.breaches.append(f"{name} exited on its own (code {process.popen.returncode}); see {process.log_path}")
            process.start()
    settle = monitor.now()
    ctx.breaches += monitor.http_breaches_since(since)
    ctx.breaches += monitor.ready_breaches(since, settle)
    run_fault.last_check = settle
    ok = not ctx.breaches
    parts = [f"drained {drained_after:.1f} s after it ended" if drained_after is not None else "NOT drained"]
    if ctx.outage:
        ready = monitor.ready_back_after(ctx.back_at)
        parts.append(f"/ready 200 {ready:.1f} s after" if ready is not None else "/ready never 200 again")
    for name, took in ctx.sigterms:
        parts.append(f"{name} SIGTERM'd during it stopped in " + (f"{took:.1f} s" if took is not None else "NOT within 60 s (killed)"))
    counts = monitor.status_counts(began, settle)
    unavailable = counts.get(503, 0)
    if unavailable:
        parts.append(f"{unavailable} requests answered 503")
    backlog = f" with {fault.backlog * len(load.org_ids)} jobs of backlog" if fault.backlog else ""
    print(f"{'ok  ' if ok else 'FAIL'} {label}: {fault.title}{backlog}; fault lasted {ctx.back_at - began:.1f} s; " + "; ".join(parts), flush=True)
    for note in ctx.notes:
        print(f"       note: {note}", flush=True)
    for breach in ctx.breaches:
        print(f"       breach: {breach}", flush=True)
    return ok
