"""Errors a user can fix: `lakeforge` prints them as one line (what was wrong, what to do) and exits 2.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class LakeforgeError(Exception):
    """Bad input from the user: a path, a config value, a column name, an unset environment variable."""


class MissingSecretError(LakeforgeError, KeyError):
    """An environment variable a config names for a secret is not set."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DataError(LakeforgeError, ValueError):
    """The data does not have what the config says it has (a column, a label's values)."""
