"""How long a failed piece of work waits before it is tried again.

One schedule for every retry the database keeps (a deletion request's ``next_attempt_at``,
a notification's): 30 s after the first failure, doubling, at most an hour. A job that keeps
failing (an SMTP server down for a day, a deletion step hitting a bug) is retried hourly
rather than hammered, and one that failed once is tried again within a minute.
"""

from __future__ import annotations

from datetime import timedelta

FIRST = timedelta(seconds=30)
LONGEST = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait after a failure: ``FIRST * 2**attempts``, at most ``LONGEST``. Each caller
    counts as it always has: a notification its sends before the one that failed, a
    deletion request its runs including the one that failed."""
    # The exponent is capped so that a huge count stays cheap; 2**7 already passes the hour.
    wait: timedelta = FIRST * 2 ** min(attempts, 10)
    return min(wait, LONGEST)
