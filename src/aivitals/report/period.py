"""Calendar months in UTC: the period a review covers and the one before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import ReportError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY_SECONDS = 86400


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month, UTC; ``end`` is the first instant of the next month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            raise ReportError(f"--month {text!r} is not a month",
                              "write it as YYYY-MM, e.g. --month 2025-03")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: datetime) -> Month:
        moment = moment.astimezone(timezone.utc)
        return cls(moment.year, moment.month)

    @classmethod
    def last_complete(cls, now: datetime) -> Month:
        """The month before the one ``now`` falls in: the default review."""
        return cls.containing(now).previous()

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> float:
        return datetime(self.year, self.month, 1, tzinfo=timezone.utc).timestamp()

    @property
    def end(self) -> float:
        return self.next().start

    @property
    def days(self) -> int:
        return round((self.end - self.start) / DAY_SECONDS)

    @property
    def seconds(self) -> int:
        return self.days * DAY_SECONDS

    @property
    def window(self) -> str:
        """The month as a PromQL range, e.g. ``31d``."""
        return f"{self.days}d"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def require_over(self, now: datetime) -> None:
        """Refuse a month that has not ended: a review of it would be drawn as if complete."""
        current = Month.containing(now)
        if self > current:
            raise ReportError(f"--month {self} is in the future",
                              f"pick a month that has ended; the last complete one is {current.previous()}")
        if self == current:
            raise ReportError(f"--month {self} has not ended yet",
                              f"pick a month that has ended; the last complete one is {current.previous()}")
