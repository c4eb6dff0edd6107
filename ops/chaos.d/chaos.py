#!/usr/bin/env python3
"""The chaos suite (see ops/chaos): faults one at a time under load, invariants after each.

Standard library only; Postgres and Redis are driven through psql, pg_ctl and redis-cli.
"""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cluster import Cluster  # noqa: E402
from faults import FAULTS, run_fault  # noqa: E402
from invariants import summary  # noqa: E402
from load import Load  # noqa: E402
from monitor import Monitor  # noqa: E402


def main():
    parser = argparse.ArgumentParser(prog="ops/chaos")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--soak", action="store_true", help="more rounds of every fault (CHAOS_ROUNDS, default 3)")
    parser.add_argument("--only", default="", help="comma-separated fault names: " + ",".join(f.name for f in FAULTS))
    args = parser.parse_args()
    rounds = int(os.environ.get("CHAOS_ROUNDS", "3")) if args.soak else 1
    wanted = [name for name in args.only.split(",") if name]
    unknown = [name for name in wanted if name not in {f.name for f in FAULTS}]
    if unknown:
        parser.error("unknown fault(s): " + ", ".join(unknown))
    faults = [f for f in FAULTS if not wanted or f.name in wanted]

    started = time.monotonic()
    monitor = Monitor()
    cluster = Cluster(args.root, args.bin, monitor)
    load = None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    passed = failed = 0
    try:
        cluster.start()
        load = Load(cluster, monitor)
        load.setup()
        load.start()
        time.sleep(5)
        for round_number in range(1, rounds + 1):
            for fault in faults:
                label = fault.name if rounds == 1 else f"{fault.name} (round {round_number})"
                ok = run_fault(fault, label, cluster, load, monitor)
                passed += ok
                failed += not ok
        load.stop()
        print("chaos: " + summary(cluster, load), flush=True)
        # The final shutdown of every process is measured like the SIGTERMs during faults.
        breaches = cluster.stop_all_measured()
        breaches += monitor.http_breaches_since(getattr(run_fault, "last_check", 0.0))
        if breaches:
            failed += 1
            print("FAIL shutdown and whole-run checks:")
            for breach in breaches:
                print("  - " + breach)
        else:
            passed += 1
            print("ok   shutdown and whole-run checks: every process stopped within SHUTDOWN_GRACE + "
                  f"{cluster.stop_slack:.0f} s, no 5xx other than 503, no 503 outside an outage")
    except KeyboardInterrupt as stop:
        print(f"chaos: interrupted ({stop})")
        failed += 1
    except Exception as error:  # a broken suite must still clean up and say so
        print(f"chaos: the suite itself failed: {error!r}")
        import traceback
        traceback.print_exc()
        failed += 1
    finally:
        if load:
            load.stop()
        cluster.teardown()
    print(f"chaos: {passed} passed, {failed} failed ({time.monotonic() - started:.0f} s; logs in {cluster.logs})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
