"""The due-date rule (DESIGN.md): the earliest of target wait, permit expiry minus margin, court deadlines."""

import datetime
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from guichet.waitlist.due_dates import compute_due_date
from guichet.waitlist.models import DueReason

D = datetime.date
RECEIVED = D(2025, 3, 10)


@dataclass
class Settings:
    target_wait_days: int = 30
    vulnerable_target_wait_days: int | None = 10
    is_renewal: bool = False
    renewal_safety_margin_days: int = 15


def test_plain_request_waits_the_target():
    assert compute_due_date(RECEIVED, Settings()) == (D(2025, 4, 9), DueReason.TARGET_WAIT)


def test_vulnerability_shortens_the_wait():
    assert compute_due_date(RECEIVED, Settings(), vulnerable=True) == (
        D(2025, 3, 20),
        DueReason.VULNERABILITY,
    )


def test_vulnerability_without_a_set_wait_halves_the_target():
    due = compute_due_date(
        RECEIVED, Settings(target_wait_days=31, vulnerable_target_wait_days=None), vulnerable=True
    )
    assert due == (D(2025, 3, 26), DueReason.VULNERABILITY)


def test_a_vulnerable_wait_longer_than_the_target_changes_nothing():
    due = compute_due_date(RECEIVED, Settings(vulnerable_target_wait_days=40), vulnerable=True)
    assert due == (D(2025, 4, 9), DueReason.TARGET_WAIT)


def test_renewal_is_due_before_the_permit_expires():
    renewal = Settings(target_wait_days=45, is_renewal=True)
    assert compute_due_date(RECEIVED, renewal, D(2025, 4, 1)) == (D(2025, 3, 17), DueReason.PERMIT_EXPIRY)


def test_renewal_expiring_far_ahead_keeps_the_target_wait():
    renewal = Settings(target_wait_days=45, is_renewal=True)
    assert compute_due_date(RECEIVED, renewal, D(2025, 12, 1)) == (D(2025, 4, 24), DueReason.TARGET_WAIT)


def test_renewal_due_date_is_never_before_the_received_date():
    renewal = Settings(is_renewal=True)
    assert compute_due_date(RECEIVED, renewal, D(2025, 3, 1)) == (RECEIVED, DueReason.PERMIT_EXPIRY)
    assert compute_due_date(RECEIVED, renewal, D(2025, 3, 20)) == (RECEIVED, DueReason.PERMIT_EXPIRY)


def test_expiry_is_ignored_for_a_procedure_that_is_not_a_renewal():
    assert compute_due_date(RECEIVED, Settings(), D(2025, 3, 20)) == (D(2025, 4, 9), DueReason.TARGET_WAIT)


def test_court_order_deadline_wins_when_earliest():
    due = compute_due_date(RECEIVED, Settings(), court_deadlines=[D(2025, 4, 30), D(2025, 3, 25)])
    assert due == (D(2025, 3, 25), DueReason.COURT_ORDER)
    later = compute_due_date(RECEIVED, Settings(), court_deadlines=[D(2025, 6, 1)])
    assert later == (D(2025, 4, 9), DueReason.TARGET_WAIT)


def test_on_a_tie_the_court_order_is_the_reason_given():
    due = compute_due_date(RECEIVED, Settings(), court_deadlines=[D(2025, 4, 9)])
    assert due == (D(2025, 4, 9), DueReason.COURT_ORDER)


@given(
    st.dates(D(2020, 1, 1), D(2030, 1, 1)),
    st.integers(1, 365),
    st.one_of(st.none(), st.integers(1, 365)),
    st.booleans(),
    st.integers(0, 60),
    st.one_of(st.none(), st.dates(D(2015, 1, 1), D(2035, 1, 1))),
    st.booleans(),
    st.lists(st.dates(D(2020, 1, 1), D(2035, 1, 1)), max_size=3),
)
def test_the_due_date_is_the_earliest_candidate(
    received, target, vulnerable_wait, renewal, margin, expiry, vulnerable, deadlines
):
    procedure = Settings(target, vulnerable_wait, renewal, margin)
    due, reason = compute_due_date(received, procedure, expiry, vulnerable, deadlines)
    wait = target
    if vulnerable:
        wait = min(target, vulnerable_wait if vulnerable_wait is not None else max(1, -(-target // 2)))
    candidates = [received + datetime.timedelta(days=wait), *deadlines]
    if renewal and expiry is not None:
        candidates.append(max(expiry - datetime.timedelta(days=margin), received))
    assert due == min(candidates)
    if not deadlines:
        assert due >= received
    assert reason in DueReason.values
    if deadlines and due == min(deadlines):
        assert reason == DueReason.COURT_ORDER
