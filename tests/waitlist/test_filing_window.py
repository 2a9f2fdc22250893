"""Renewal filing window (CESEDA R.431-5): early, open or late, never a refusal."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import translation

from guichet.waitlist.due_dates import WindowState, filing_window
from guichet.waitlist.services import filing_window_message

D = datetime.date
EXPIRY = D(2025, 9, 30)


@dataclass
class Online:
    is_renewal: bool = True
    renewal_window_opens_days: int = 120
    renewal_window_closes_days: int = 60


def test_window_dates_follow_the_procedure():
    window = filing_window(Online(), EXPIRY, D(2025, 7, 1))
    assert window.opens_on == D(2025, 6, 2) and window.closes_on == D(2025, 8, 1)
    assert window.expires_on == EXPIRY


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (D(2025, 1, 1), WindowState.EARLY),
        (D(2025, 6, 1), WindowState.EARLY),
        (D(2025, 6, 2), WindowState.OPEN),
        (D(2025, 8, 1), WindowState.OPEN),
        (D(2025, 8, 2), WindowState.LATE),
        (D(2025, 10, 15), WindowState.LATE),
    ],
)
def test_state_on_each_side_of_the_bounds(today, state):
    assert filing_window(Online(), EXPIRY, today).state == state


def test_two_months_window_for_titles_not_filed_online():
    window = filing_window(
        Online(renewal_window_opens_days=60, renewal_window_closes_days=0), EXPIRY, D(2025, 9, 1)
    )
    assert (
        window.opens_on == D(2025, 8, 1) and window.closes_on == EXPIRY and window.state == WindowState.OPEN
    )


def test_no_window_for_other_procedures_or_without_expiry():
    assert filing_window(Online(is_renewal=False), EXPIRY, D(2025, 7, 1)) is None
    assert filing_window(Online(), None, D(2025, 7, 1)) is None


def test_messages_tell_when_it_opens_and_warn_when_late():
    early = filing_window(Online(), EXPIRY, D(2025, 1, 1))
    late = filing_window(Online(), EXPIRY, D(2025, 9, 1))
    with translation.override("en"):
        assert "June 2, 2025" in filing_window_message(early)
        assert "Aug. 1, 2025" in filing_window_message(late) and "fee" in filing_window_message(late)
    with translation.override("fr"):
        assert "2 juin 2025" in filing_window_message(early)
    assert filing_window_message(None) == ""
    assert early.as_dict()["state"] == "early"
