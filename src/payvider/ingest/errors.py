"""Errors raised when an input cannot be loaded at all."""

from __future__ import annotations


class InputRejected(Exception):
    """A whole file (and so its batch) cannot be loaded. The message names the file and problem.

    The CLI turns this into exit code 3.
    """

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")
