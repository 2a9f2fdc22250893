"""Settings of the stack bench/load.py starts: the application's, plus its trivial baselines, and rate limits
raised out of the way (a benchmark files thousands of requests from one address; production keeps its own)."""

from guichet.settings import *  # noqa: F403 (the application's settings, unchanged but for what follows)
from guichet.settings import GUICHET_RATE_LIMITS

ROOT_URLCONF = "bench.trivial_urls"
GUICHET_RATE_LIMITS = {scope: "1000000000/s" for scope in GUICHET_RATE_LIMITS}
