"""ProcessPoolEngine: a killed driver does not leave its pool workers behind."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

DRIVER = textwrap.dedent("""
    import os, sys, time
    from pipeline.engine.local_pool import ProcessPoolEngine

    def pid_of_worker(_):
        time.sleep(0.2)
        return os.getpid()

    engine = ProcessPoolEngine(workers=2)
    pids = sorted(set(engine.map_ordered(pid_of_worker, range(6), stage="pids")))
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(600)  # killed here by the test
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_driver_is_killed(tmp_path):
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        pids = [int(p) for p in driver.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in pids), "pool workers outlived their killed driver"
    finally:
        if driver.poll() is None:
            driver.kill()
