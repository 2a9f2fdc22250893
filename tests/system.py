"""Tests that need a program of the system (not a Python package): skipped with the reason on a machine
without it, required in CI (`.ci/run` sets REQUIRE_SYSTEM_PROGRAMS=1 and installs them), where a missing
program fails the test instead. Browser tests do the same with REQUIRE_BROWSER (tests/public/browser)."""

import os

import pytest


def required() -> bool:
    return os.environ.get("REQUIRE_SYSTEM_PROGRAMS") == "1"


def needs(available: bool, reason: str) -> pytest.MarkDecorator:
    """Skip unless `available` (or unless CI requires it: then the test runs, and fails without it)."""
    return pytest.mark.skipif(not available and not required(), reason=reason)
