"""The one error a user can cause: it names the problem and what to do, on one line."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be made as asked; ``str()`` is one line: the problem, then the fix."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")
        self.problem = problem
        self.fix = fix
