"""Every HTTP answer the suite sees, the dependency outages, and /ready's samples, with the checks on them."""
import http.client
import json
import threading
import time

# A 503 is allowed while a dependency is down and for this long after it is back: PostgresNIO's pool
# reconnects with a back-off, which after a 60 s outage took 5-8 s in the measured runs (docs/operations.md).
TOLERANCE_503_AFTER = 10.0
# /ready must answer 503 from this long after a dependency goes (its probe waits up to 2 s) ...
READY_DOWN_TOLERANCE = 3.0
# ... and 200 again from this long after it is back (the same pool back-off).
READY_UP_TOLERANCE = 10.0
# Any request still unanswered after this is a breach (an operator's client gives up; 503 is the answer).
REQUEST_TIMEOUT = 20.0


class Monitor:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []  # (start, end, method, path, status or 'refused'/'timeout'/'reset')
        self.outages = []  # [name, start, end or None, restart begun or None]
        self.api_down = []  # [start, end or None]: the API process was killed or restarting
        self.ready = []  # (start, end, status)

    def now(self):
        return time.monotonic()

    # -- outages
    def outage_begins(self, name):
        with self.lock:
            self.outages.append([name, self.now(), None, None])
            return len(self.outages) - 1

    def outage_restarting(self, index):
        """The dependency is being started again: from here it may answer before `outage_ends` is recorded."""
        with self.lock:
            self.outages[index][3] = self.now()

    def outage_ends(self, index):
        with self.lock:
            self.outages[index][2] = self.now()
            return self.outages[index][2]

    def api_gone(self):
        with self.lock:
            self.api_down.append([self.now(), None])

    def api_back(self):
        with self.lock:
            self.api_down[-1][1] = self.now()

    # -- HTTP
    def request(self, port, method, path, token=None, body=None, timeout=REQUEST_TIMEOUT):
        """One request; returns (status or a word, parsed JSON or None)."""
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        start = self.now()
        status, parsed = None, None
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
        except ConnectionRefusedError:
            status = "refused"
        except TimeoutError:
            status = "timeout"
        except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError, http.client.IncompleteRead):
            status = "reset"
        except OSError as error:
            status = f"error:{error.__class__.__name__}"
        finally:
            connection.close()
        end = self.now()
        with self.lock:
            if path == "/ready":
                self.ready.append((start, end, status))
            elif path != "/health":  # /health is only asked while waiting for a (re)started API
                self.calls.append((start, end, method, path, status))
        return status, parsed

    def _in(self, windows, start, end, after=0.0):
        return any(begin <= end and start <= (stop if stop is not None else float("inf")) + after for begin, stop in windows)

    def _dependency_windows(self):
        return [(start, end) for _, start, end, _restart in self.outages]

    def _certainly_down_windows(self):
        """From an outage's start until its restart began (the server may already answer while the restart is awaited)."""
        return [(start, restart or end) for _, start, end, restart in self.outages]

    def http_breaches_since(self, since):
        """5xx other than 503 at any time, 503 outside an outage, no answer in time, refused outside the API's own downtime."""
        with self.lock:
            calls = [c for c in self.calls if c[0] >= since]
            outages = self._dependency_windows()
            api_down = [(a, b) for a, b in self.api_down]
        found = {}
        for start, end, method, path, status in calls:
            key = None
            if isinstance(status, int) and status >= 500 and status != 503:
                key = f"{method} {path} answered {status}"
            elif isinstance(status, int) and 400 <= status < 500:
                key = f"{method} {path} answered {status} to the suite's valid request"
            elif status == 503 and not self._in(outages, start, end, TOLERANCE_503_AFTER):
                key = f"{method} {path} answered 503 while every dependency was up"
            elif status == "timeout":
                key = f"{method} {path} had no answer within {REQUEST_TIMEOUT:.0f} s"
            elif isinstance(status, str) and not self._in(api_down, start, end, 1.0):
                key = f"{method} {path}: connection {status} while the API process was up"
            if key:
                count, first = found.get(key, (0, start))
                found[key] = (count + 1, first)
        return [f"{key} ({count}x, first at t+{first - self.t0:.1f} s)" for key, (count, first) in found.items()]

    def ready_breaches(self, since, until):
        """/ready: 503 while a dependency is down (after a tolerance), 200 when all are up (after a tolerance)."""
        with self.lock:
            samples = [s for s in self.ready if s[0] >= since and s[1] <= until]
            outages = self._dependency_windows()
            down_windows = self._certainly_down_windows()
            api_down = [(a, b) for a, b in self.api_down]
        wrong_up, wrong_down = [], []
        for start, end, status in samples:
            if isinstance(status, str) and self._in(api_down, start, end, 1.0):
                continue
            down = any(begin + READY_DOWN_TOLERANCE <= start and (stop is None or end <= stop) for begin, stop in down_windows)
            up = not self._in(outages, start, end, READY_UP_TOLERANCE)
            if down and status != 503:
                wrong_down.append((start, status))
            elif up and status != 200:
                wrong_up.append((start, status))
        breaches = []
        if wrong_down:
            breaches.append(f"/ready answered {sorted({str(s) for _, s in wrong_down})} {len(wrong_down)}x while a dependency was "
                            f"down (first at t+{wrong_down[0][0] - self.t0:.1f} s)")
        if wrong_up:
            breaches.append(f"/ready answered {sorted({str(s) for _, s in wrong_up})} {len(wrong_up)}x while every dependency was "
                            f"up (first at t+{wrong_up[0][0] - self.t0:.1f} s, last at t+{wrong_up[-1][0] - self.t0:.1f} s)")
        return breaches

    def ready_back_after(self, moment):
        """Seconds from `moment` to the first 200 from /ready sampled after it (None if none yet)."""
        with self.lock:
            for start, _end, status in self.ready:
                if start >= moment and status == 200:
                    return start - moment
        return None

    def status_counts(self, since, until):
        with self.lock:
            counts = {}
            for start, _end, _method, _path, status in self.calls:
                if since <= start <= until:
                    counts[status] = counts.get(status, 0) + 1
            return counts

    t0 = time.monotonic()
