"""The project's own error: something the user can fix, reported as one clear line.

The CLI catches ``UserError`` and prints ``error: <message>`` on stderr with exit code 2,
never a traceback. Library code raises it for bad input (missing file, malformed det file,
unknown tracker name, ...); anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``str(err)`` is the one line shown to them."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # one line, always: the CLI promises a single-line message
        super().__init__(" ".join(str(message).split()))
