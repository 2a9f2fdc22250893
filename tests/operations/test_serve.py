"""`manage.py serve`: the background runs at a lower CPU priority than the web server."""

import os
import subprocess
import sys

from guichet.operations.management.commands import serve


def test_a_background_process_gets_a_lower_priority_than_serve():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert serve._niced(child, serve.BACKGROUND_NICENESS) is child
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, ours + serve.BACKGROUND_NICENESS)
    finally:
        child.kill()
        child.wait()


def test_a_process_that_ended_already_is_left_as_it_is():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert serve._niced(child, serve.BACKGROUND_NICENESS) is child
