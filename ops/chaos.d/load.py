"""The steady load: staff enqueueing recording `sleep` jobs, phones submitting bulk interactions, a /ready prober."""
import datetime
import random
import threading
import time
import uuid

ORGS = 3
VOTERS_PER_ORG = 20
# One job per org every ENQUEUE_EVERY seconds: spread out, so every worker holds some at any moment.
ENQUEUE_EVERY = 0.2
SLEEP_MS = 800
BATCH = 10


class Phone:
    """One campaign member's device: makes interactions, keeps each batch until the server has answered it, resubmits."""

    def __init__(self, org_id, token, voters):
        self.org_id, self.token, self.voters = org_id, token, voters
        self.pending = []  # batches not yet answered with 200
        self.acknowledged = {}  # client uuid -> status the server gave ('created' or 'duplicate')
        self.rejected = []
        self.lock = threading.Lock()

    def new_batch(self):
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        return [{
            "clientInteractionUuid": str(uuid.uuid4()),
            "voterId": random.choice(self.voters),
            "channel": "door",
            "result": random.choice(["canvassed", "not_home", "refused"]),
            "occurredAt": now,
        } for _ in range(BATCH)]


class Load:
    def __init__(self, cluster, monitor):
        self.cluster, self.monitor = cluster, monitor
        self.port = cluster.api_port
        self.jobs_paused = threading.Event()
        self.stopping = threading.Event()
        self.threads = []
        self.phones = []
        self.org_ids = []
        self.staff = None

    def call(self, method, path, token=None, body=None, timeout=None):
        kwargs = {"timeout": timeout} if timeout else {}
        return self.monitor.request(self.port, method, "/api/v1" + path, token, body, **kwargs)

    def must(self, method, path, token=None, body=None):
        status, parsed = self.call(method, path, token, body)
        if status not in (200, 201, 202):
            raise RuntimeError(f"setup: {method} {path} answered {status}: {parsed}")
        return parsed

    def sign_in_staff(self):
        self.staff = self.must("POST", "/internal/auth/login", body={"email": "staff@chaos.fieldwork.test",
                                                                    "password": self.cluster.staff_password})["accessToken"]

    def setup(self):
        self.sign_in_staff()
        run = str(int(time.time()))
        for n in range(ORGS):
            slug = f"chaos-{run}-{n}"
            created = self.must("POST", "/internal/organizations", self.staff, {
                "name": f"Chaos {n}", "slug": slug, "timezone": "America/Chicago",
                "admin": {"email": f"admin@{slug}.test", "name": "Chaos Admin", "password": "chaos-admin-pw"}})
            org_id = created["org"]["id"]
            admin = self.must("POST", "/auth/login", body={"email": f"admin@{slug}.test", "password": "chaos-admin-pw"})["accessToken"]
            voters = [self.must("POST", "/voters", admin, {"externalId": f"CH-{n}-{v}", "firstName": "Ada", "lastName": f"Chaos{v}",
                                                           "residence": {"streetName": "Main"}})["id"] for v in range(VOTERS_PER_ORG)]
            self.org_ids.append(org_id)
            self.phones.append(Phone(org_id, admin, voters))

    def start(self):
        targets = [self.enqueue_loop, self.ready_loop] + [lambda p=p: self.phone_loop(p) for p in self.phones]
        for target in targets:
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.threads = []

    def enqueue_loop(self):
        while not self.stopping.is_set():
            began = time.monotonic()
            if not self.jobs_paused.is_set():
                self.call("POST", "/internal/diagnostics/jobs", self.staff, {
                    "pipeline": "sleep", "count": 1, "orgIds": self.org_ids, "args": {"ms": SLEEP_MS, "record": True}})
            self.stopping.wait(max(0.0, ENQUEUE_EVERY - (time.monotonic() - began)))

    def ready_loop(self):
        while not self.stopping.is_set():
            self.monitor.request(self.port, "GET", "/ready", timeout=5)
            self.stopping.wait(0.25)

    def submit(self, phone, batch, timeout=None):
        """One submission of a batch; True when the server answered it (every item created, duplicate or rejected)."""
        status, parsed = self.call("POST", "/interactions/bulk", phone.token, {"interactions": batch}, timeout)
        if status != 200 or not parsed:
            return False
        with phone.lock:
            for item in parsed.get("results", []):
                if item.get("status") in ("created", "duplicate"):
                    phone.acknowledged[item["clientInteractionUuid"]] = item["status"]
                else:
                    phone.rejected.append(item)
        return True

    def phone_loop(self, phone):
        while not self.stopping.is_set():
            with phone.lock:
                phone.pending.append(phone.new_batch())
                batches = list(phone.pending)
            for batch in batches:  # oldest first, as a phone's outbox would
                if not self.submit(phone, batch):
                    break
                with phone.lock:
                    if batch in phone.pending:
                        phone.pending.remove(batch)
            self.stopping.wait(1.0)

    def flush_phones(self, limit=30.0):
        """Waits until every phone's outbox is empty; returns the batches still unanswered."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with_pending = [p for p in self.phones if p.pending]
            if not with_pending:
                return 0
            time.sleep(0.5)
        return sum(len(p.pending) for p in self.phones)
