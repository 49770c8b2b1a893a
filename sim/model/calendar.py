"""The calendar: steps of the model and the months they stand for."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, written YYYY-MM."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: object) -> Month:
        """The month written ``text`` (YYYY-MM); a ValueError that quotes it otherwise."""
        m = _MONTH.match(str(text).strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"expected a date as YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        """YYYY-MM."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since the start of year 0: consecutive months have consecutive indices."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> Month:
        """The month ``months`` later (earlier if negative)."""
        i = self.index + months
        return Month(i // 12, i % 12 + 1)

    @property
    def decimal_year(self) -> float:
        """The year with the month as a fraction: 2025-07 is 2025.5."""
        return self.year + (self.month - 1) / 12


@dataclass(frozen=True)
class Calendar:
    """Step 0 is the start month; each step lasts ``months_per_step`` months."""

    start: Month
    months_per_step: int = 3

    def date(self, step: float) -> Month:
        """The month at which step ``step`` (truncated to a whole step) begins."""
        return self.start.plus(int(step) * self.months_per_step)

    def step_of(self, month: Month) -> int:
        """The first step at or after ``month``."""
        return -(-(month.index - self.start.index) // self.months_per_step)
