"""gunicorn settings of `manage.py serve` (the command line gives bind, workers and the worker class)."""

import os

from prometheus_client import multiprocess

logger_class = "guichet.operations.gunicorn_logging.Logger"
accesslog = "-"
errorlog = "-"


def child_exit(server, worker):
    # A worker that exits leaves its counters in PROMETHEUS_MULTIPROC_DIR; mark them as a dead process's.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


# Seconds a kept-alive connection may stay idle. Longer than gunicorn's 2 s default: a client that waits
# the 2 s of a 503's Retry-After (guichet/operations/admission.py) finds its connection still open. Idle
# connections wait in the worker's poller, not in a thread.
keepalive = 5
