"""What ``yujing bench`` reads of its worker processes (benchmarks/stack.py): CPU time,
split between the main thread and the rest."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.stack import cpu_seconds

BUSY = """
import threading, time
def spin(s):
    end = time.process_time() + s
    while time.process_time() < end:
        pass
t = threading.Thread(target=spin, args=(0.6,))
t.start(); t.join()
spin(0.3)
print("done", flush=True)
input()
"""


def test_cpu_is_split_between_the_main_thread_and_the_others() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "done"
        main, rest = cpu_seconds(child.pid)
        # the thread that spun has ended: its time is still the process's, outside main
        assert rest >= 0.4, (main, rest)
        assert main >= 0.2, (main, rest)
    finally:
        child.kill()
        child.wait()


def test_a_process_that_is_gone_reads_as_not_a_number() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its /proc entry is gone
    main, rest = cpu_seconds(child.pid)
    assert main != main and rest != rest  # NaN
