"""Small checks shared by every reader of user input: numbers, and a hint for a misspelt name."""

import difflib
import math
from collections.abc import Iterable
from typing import Any


def is_number(x: Any) -> bool:
    """A finite real number (not a bool, not too large for a float)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def suggest(name: object, choices: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""`` (also for a very long name)."""
    if len(str(name)) > 100:
        return ""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
