"""The invariants checked after every fault, and what a wedged queue looks like."""
import time

reported_jobs = set()
reported_uuids = set()

BAD_JOBS = """
SELECT j.id, j.state, j.attempt, COALESCE(e.n, 0), COALESCE(left(j.last_error, 160), ''),
       COALESCE((SELECT string_agg(a.attempt || ':' || COALESCE(a.outcome, 'open') || '@' || a.worker_id, ' ' ORDER BY a.attempt)
                 FROM job_attempts a WHERE a.job_id = j.id), '')
FROM jobs j
LEFT JOIN (SELECT job_id, count(*) AS n FROM diagnostic_effects GROUP BY job_id) e ON e.job_id = j.id
WHERE j.pipeline = 'sleep'
  AND j.state IN ('succeeded', 'dead', 'discarded', 'cancelled')
  AND (j.state <> 'succeeded' OR COALESCE(e.n, 0) <> 1)
"""


def check_invariants(cluster, load):
    breaches = []
    # Every finished sleep job succeeded (a sleep job has no reason to fail; max_attempts is 10 here) with one effect row.
    rows = [r for r in cluster.psql(BAD_JOBS) if r[0] not in reported_jobs]
    if rows:
        reported_jobs.update(r[0] for r in rows)
        kinds = {}
        for job_id, state, attempt, effects, error, attempts in rows:
            kind = f"state {state} with {effects} effect rows"
            kinds.setdefault(kind, []).append(f"{job_id} attempt={attempt} attempts=[{attempts}] {error}".strip())
        for kind, samples in kinds.items():
            breaches.append(f"{len(samples)} sleep job(s) finished in {kind}; e.g. " + " | ".join(samples[:3]))
    # Every interaction a phone was told about (created or duplicate) is stored exactly once by its client UUID.
    left = load.flush_phones()
    if left:
        breaches.append(f"{left} bulk batch(es) still unanswered 30 s after recovery")
    # What the phones were told, read before the database: the phones keep submitting meanwhile.
    acknowledged, rejected = [], []
    for phone in load.phones:
        with phone.lock:
            acknowledged += list(phone.acknowledged)
            rejected += phone.rejected
            phone.rejected = []
    stored = {}
    for client_uuid, count in cluster.psql("SELECT client_interaction_uuid, count(*) FROM interactions GROUP BY 1"):
        stored[client_uuid] = int(count)
    lost, doubled = [], []
    for client_uuid in acknowledged:
        if client_uuid in reported_uuids:
            continue
        n = stored.get(client_uuid, 0)
        if n == 0:
            lost.append(client_uuid)
        elif n > 1:
            doubled.append(client_uuid)
    reported_uuids.update(lost + doubled)
    if lost:
        breaches.append(f"{len(lost)} acknowledged interaction(s) missing from the database, e.g. {lost[:3]}")
    if doubled:
        breaches.append(f"{len(doubled)} interaction(s) stored more than once, e.g. {doubled[:3]}")
    if rejected:
        breaches.append(f"{len(rejected)} bulk item(s) rejected, e.g. {rejected[:2]}")
    return breaches


def describe_wedge(cluster):
    """The ledger's unfinished jobs and the queue's keys, for the report."""
    parts = []
    try:
        states = cluster.psql("SELECT state, count(*), min(updated_at)::time(0) FROM jobs "
                              "WHERE state NOT IN ('succeeded', 'dead', 'discarded', 'cancelled') GROUP BY 1 ORDER BY 1")
        parts.append("ledger " + ", ".join(f"{s}={n} (oldest update {t})" for s, n, t in states))
    except Exception as error:
        parts.append(f"ledger unreadable ({error})")
    try:
        now_ms = int(time.time() * 1000)
        keys = sorted(k for k in cluster.redis("--scan", "--pattern", "*").splitlines() if k)
        described = []
        for key in keys[:40]:
            kind = cluster.redis("type", key)
            if kind == "zset":
                members = cluster.redis("zrange", key, "0", "-1", "withscores").splitlines()
                scores = [float(s) for s in members[1::2]] if members else []
                expired = sum(1 for s in scores if 1e12 < s < now_ms)
                described.append(f"{key} zset {len(scores)}" + (f" ({expired} with a past ms score)" if expired else ""))
            elif kind == "list":
                described.append(f"{key} list {cluster.redis('llen', key)}")
            elif kind == "hash":
                described.append(f"{key} hash {cluster.redis('hlen', key)}")
            else:
                described.append(f"{key} {kind}")
        parts.append("redis: " + "; ".join(described))
    except Exception as error:
        parts.append(f"redis unreadable ({error})")
    return " | ".join(parts)


def summary(cluster, load):
    """What the run did, for the last lines of the report."""
    jobs = cluster.psql("SELECT state, count(*) FROM jobs GROUP BY 1 ORDER BY 1")
    attempts = cluster.psql("SELECT COALESCE(outcome, 'open'), count(*) FROM job_attempts GROUP BY 1 ORDER BY 1")
    effects = cluster.psql("SELECT count(*) FROM diagnostic_effects")[0][0]
    acknowledged = sum(len(p.acknowledged) for p in load.phones)
    return (f"jobs {', '.join(f'{s}={n}' for s, n in jobs)}; attempts {', '.join(f'{o}={n}' for o, n in attempts)}; "
            f"effect rows {effects}; interactions acknowledged {acknowledged}")
