"""The suite's own Postgres, Redis and fieldwork processes: start, stop, kill, restart, and queries on them."""
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
SHUTDOWN_GRACE = 5
# A process must be gone this long after SIGTERM beyond SHUTDOWN_GRACE.
STOP_SLACK = 5.0
SLEEP_LEASE = "4s"


class Process:
    def __init__(self, name, args, env, log_path):
        self.name, self.args, self.env, self.log_path = name, args, env, log_path
        self.popen = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.pid_file = os.path.join(os.path.dirname(self.log_path), "..", f"{self.name}.pid")
        log = open(self.log_path, "ab")
        log.write(f"\n==== chaos: start #{self.starts} at {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        with open(self.pid_file, "w") as pid:
            pid.write(str(self.popen.pid))

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def kill9(self):
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def terminate_measured(self, limit, patience=60.0):
        """SIGTERM; (seconds until it exited or None, within limit?). Waits up to `patience` to measure, then kills."""
        if not self.alive():
            return 0.0, True
        began = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=max(limit, patience))
            took = time.monotonic() - began
            return took, took <= limit
        except subprocess.TimeoutExpired:
            self.kill9()
            return None, False


class Cluster:
    def __init__(self, root, binary, monitor):
        self.root, self.bin, self.monitor = root, binary, monitor
        self.data = os.path.join(root, ".data", "chaos")
        self.logs = os.path.join(self.data, "logs")
        self.pg_dir = os.path.join(self.data, "postgres")
        self.redis_dir = os.path.join(self.data, "redis")
        self.pg_port = int(os.environ.get("CHAOS_PG_PORT", "55440"))
        self.redis_port = int(os.environ.get("CHAOS_REDIS_PORT", "56390"))
        self.api_port = int(os.environ.get("CHAOS_API_PORT", "18290"))
        self.database_url = f"postgres://fieldwork@127.0.0.1:{self.pg_port}/chaos"
        self.stop_slack = STOP_SLACK
        self.grace = SHUTDOWN_GRACE
        self.processes = {}
        self.pg_started = self.redis_started = False
        self.pipelines = None
        for port in (self.pg_port, self.redis_port, self.api_port):
            if port in (55432, 56379):
                raise SystemExit(f"ops/chaos: port {port} is the shared stack's; the suite stops its servers, pick another")

    # -- shell helpers
    def as_pg(self, args):
        if os.getuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def sh(self, args, check=True, timeout=60, **kwargs):
        return subprocess.run(args, check=check, timeout=timeout, capture_output=True, text=True, **kwargs)

    def psql(self, sql, database="chaos", timeout=30):
        """Rows of a query (tab-separated fields), through psql."""
        out = self.sh(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "fieldwork",
                       "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=timeout).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def redis(self, *args, check=False):
        result = self.sh(["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port)] + list(args), check=check, timeout=10)
        return result.stdout.strip()

    # -- Postgres
    def pg_ready(self):
        return self.sh([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port)], check=False).returncode == 0

    def pg_start(self):
        self.sh(self.as_pg([f"{PG_BIN}/pg_ctl", "-D", self.pg_dir, "-l", os.path.join(self.pg_dir, "server.log"), "-w", "-t", "60",
                            "start", "-o", f"-c listen_addresses=127.0.0.1 -p {self.pg_port} -k /tmp -c max_connections=300 "
                            "-c fsync=off -c shared_buffers=128MB"]), timeout=90)
        self.pg_started = True

    def pg_stop(self, mode="fast"):
        self.sh(self.as_pg([f"{PG_BIN}/pg_ctl", "-D", self.pg_dir, "-m", mode, "-w", "-t", "60", "stop"]), check=False, timeout=90)

    def pg_setup(self):
        os.makedirs(self.pg_dir, exist_ok=True)
        if os.getuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                self.sh(["useradd", "--system", "--no-create-home", "postgres"])
            self.sh(["chown", "-R", "postgres", self.pg_dir])
        os.chmod(self.pg_dir, 0o700)
        if not os.path.exists(os.path.join(self.pg_dir, "PG_VERSION")):
            self.sh(self.as_pg([f"{PG_BIN}/initdb", "-D", self.pg_dir, "-U", "fieldwork", "--auth=trust", "-E", "UTF8",
                                "--locale=C.UTF-8"]), timeout=120)
        if self.pg_ready():
            self.pg_stop()  # a server left by an earlier run that was killed outright
        self.pg_start()
        self.psql("DROP DATABASE IF EXISTS chaos WITH (FORCE)", database="postgres")
        self.psql("CREATE DATABASE chaos", database="postgres")

    # -- Redis (append-only file on, so a stop and start keeps the queue, as a deployment's Redis would)
    def redis_ready(self):
        return self.redis("ping") == "PONG"

    def redis_start(self):
        self.sh(["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--dir", self.redis_dir, "--daemonize", "yes",
                 "--pidfile", os.path.join(self.redis_dir, "redis.pid"), "--logfile", os.path.join(self.redis_dir, "redis.log"),
                 "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"])
        for _ in range(100):
            if self.redis_ready():
                self.redis_started = True
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not start; see " + self.redis_dir)

    def redis_stop(self, save=True):
        self.redis("shutdown", "save" if save else "nosave")
        for _ in range(100):
            if not self.redis_ready():
                return
            time.sleep(0.05)

    def redis_wipe(self):
        for name in os.listdir(self.redis_dir):
            if name.startswith("appendonly") or name.endswith(".rdb"):
                path = os.path.join(self.redis_dir, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

    # -- fieldwork
    def env(self):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "JWT_SECRET": self.jwt_secret,
            "FIELDWORK_STAFF": self.staff,
            "FIELDWORK_ENV": "development",
            "SHUTDOWN_GRACE": str(self.grace),
            "PIPELINES_DIR": self.pipelines,
            "STORAGE_URL": f"file://{self.data}/objects",
            "ACCESS_TOKEN_TTL": "3600",
            "HOST": "127.0.0.1",
            "PORT": str(self.api_port),
            "WORKER_CONCURRENCY": "32",
        })
        env.pop("JWT_KEY_FILE", None)
        return env

    def write_pipelines(self):
        """The repository's pipelines, `sleep` with a short lease, more attempts and a short backoff (faults cost attempts)."""
        self.pipelines = tempfile.mkdtemp(prefix="pipelines-", dir=self.data)
        source = os.path.join(self.root, "pipelines")
        for name in os.listdir(source):
            if name.endswith(".yaml"):
                shutil.copy(os.path.join(source, name), self.pipelines)
        path = os.path.join(self.pipelines, "sleep.yaml")
        lines = []
        for line in open(path):
            key = line.split(":")[0].strip()
            if key == "lease":
                line = f"lease: {SLEEP_LEASE}\n"
            elif key == "max_attempts":
                line = "max_attempts: 10\n"
            elif key == "cap":
                line = "  cap: 5s\n"
            lines.append(line)
        open(path, "w").write("".join(lines))

    def kill_leftovers(self):
        """Processes an earlier run started and could not stop (it was killed outright): by their recorded ids only."""
        for name in ("api", "worker-a", "worker-b", "scheduler"):
            path = os.path.join(self.data, f"{name}.pid")
            try:
                pid = int(open(path).read())
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if b"fieldwork" in cmdline.read():
                        os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def start(self):
        os.makedirs(self.logs, exist_ok=True)
        self.kill_leftovers()
        os.makedirs(self.redis_dir, exist_ok=True)
        for name in os.listdir(self.logs):
            os.remove(os.path.join(self.logs, name))
        # A copy: the binary at BIN may be rebuilt while the suite runs (restarted processes would run another build).
        copy = os.path.join(self.data, "fieldwork")
        shutil.copy2(self.bin, copy + ".tmp")
        os.replace(copy + ".tmp", copy)
        self.bin = copy
        self.pg_setup()
        if self.redis_ready():
            self.redis_stop(save=False)
        self.redis_wipe()
        self.redis_start()
        self.write_pipelines()
        self.jwt_secret = base64.b64encode(os.urandom(48)).decode()
        self.staff_password = "chaos-staff-" + base64.b32encode(os.urandom(10)).decode().lower()
        hashed = self.sh([self.bin, "hash-password", "--cost", "10"], input=self.staff_password + "\n", timeout=120).stdout.strip()
        self.staff = f"staff@chaos.fieldwork.test:{hashed}"
        self.sh([self.bin, "migrate"], env=self.env(), timeout=300)
        env = self.env()
        log = lambda name: os.path.join(self.logs, name + ".log")  # noqa: E731
        self.processes = {
            "api": Process("api", [self.bin, "serve", "--no-migrate"], env, log("api")),
            "worker-a": Process("worker-a", [self.bin, "work"], env, log("worker-a")),
            "worker-b": Process("worker-b", [self.bin, "work"], env, log("worker-b")),
            "scheduler": Process("scheduler", [self.bin, "schedule"], env, log("scheduler")),
        }
        for process in self.processes.values():
            process.start()
        self.wait_api()

    def wait_api(self, limit=120):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not self.processes["api"].alive():
                raise RuntimeError("the API process exited; see " + self.processes["api"].log_path)
            status, _ = self.monitor.request(self.api_port, "GET", "/health", timeout=2)
            if status == 200:
                return time.monotonic()
            time.sleep(0.1)
        raise RuntimeError("the API did not answer /health in time")

    def stop_limit(self):
        return self.grace + self.stop_slack

    def stop_all_measured(self):
        breaches = []
        for name, process in self.processes.items():
            if name == "api":
                took, in_time, refused = self.stop_api_watched(process)
                if refused:
                    breaches.append(f"api: {refused} request(s) refused while the process was still stopping "
                                    "(the listener should stay up, answering 503, until the process ends)")
            else:
                took, in_time = process.terminate_measured(self.stop_limit())
            if not in_time:
                breaches.append(f"{name}: SIGTERM at the end of the run (load stopped) " + stop_words(took, self.grace))
        return breaches

    def stop_api_watched(self, process):
        """SIGTERM the API while asking /ready every 100 ms: (seconds, in time?, requests refused while it still ran)."""
        samples = []
        done = threading.Event()

        def watch():
            while not done.is_set():
                began = time.monotonic()
                status, _ = self.monitor.request(self.api_port, "GET", "/health", timeout=2)
                samples.append((began, time.monotonic(), status, running(process.popen.pid)))
                done.wait(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        took, in_time = process.terminate_measured(self.stop_limit())
        done.set()
        watcher.join()
        # Refused while the process was alive after the request ended: the listener closed before the process did.
        refused = sum(1 for _b, _e, status, alive in samples if status == "refused" and alive)
        statuses = sorted({str(status) for _b, _e, status, _a in samples})
        print(f"       note: while the API stopped it answered {statuses}", flush=True)
        return took, in_time, refused

    def teardown(self):
        for process in self.processes.values():
            if process.alive():
                process.terminate_measured(self.stop_limit(), patience=0)
        if self.redis_started:
            self.redis_stop(save=False)
        if self.pg_started or self.pg_ready():
            self.pg_stop(mode="immediate")
        if self.pipelines:
            shutil.rmtree(self.pipelines, ignore_errors=True)


def stop_words(took, grace):
    """How a late stop reads in the report."""
    if took is None:
        return f"still running 60 s after SIGTERM (SHUTDOWN_GRACE={grace}); killed with -9"
    return f"stopped {took:.1f} s after SIGTERM (SHUTDOWN_GRACE={grace}, allowed {grace + STOP_SLACK:.0f} s)"


def running(pid):
    """The process exists and is not a zombie (readable from another thread while Popen.wait holds its lock)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
