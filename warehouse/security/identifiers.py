"""Allow-lists for names that reach SQL or the file system from configuration or the command line.

Values are always bound as parameters; identifiers (tables, columns, roles, regions) cannot be,
so each is checked here first: a plain lower-case name of bounded length, and, where a list of
what exists is at hand, one of those. File names get the same treatment, so `../` never leaves
the folder it was meant for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

MAX_IDENTIFIER_LENGTH = 63  # PostgreSQL's limit: every BI tool accepts it
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_FILE_NAME_LENGTH = 128


class UnsafeNameError(ValueError):
    """A name from configuration or the command line is not allowed."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"


def checked_identifier(value: object, what: str, allowed: Iterable[str] | None = None) -> str:
    """``value`` if it is a plain identifier (and in ``allowed`` when given); else a clear error."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise UnsafeNameError(f"{what} is {len(value)} characters long; at most {MAX_IDENTIFIER_LENGTH} are allowed")
    if not _IDENTIFIER.fullmatch(value):
        raise UnsafeNameError(f"{what} {_shown(value)} is not allowed: use lower-case letters, digits and _ only")
    if allowed is not None:
        allowed = set(allowed)
        if value not in allowed:
            raise UnsafeNameError(f"{what} {_shown(value)} is unknown; expected one of {sorted(allowed)}")
    return value


def checked_qualified_name(value: object, what: str) -> tuple[str, str]:
    """``schema.table`` → (schema, table), both plain identifiers."""
    if not isinstance(value, str) or value.count(".") != 1:
        raise UnsafeNameError(f"{what} {_shown(value)} must be written <schema>.<table>")
    schema, table = value.split(".")
    return checked_identifier(schema, f"{what} schema"), checked_identifier(table, f"{what} table")


def checked_file_name(value: object, what: str) -> str:
    """A bare file or folder name: no separators, no `..`, no leading dot or dash."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > MAX_FILE_NAME_LENGTH:
        raise UnsafeNameError(f"{what} is {len(value)} characters long; at most {MAX_FILE_NAME_LENGTH} are allowed")
    if not _FILE_NAME.fullmatch(value) or ".." in value:
        raise UnsafeNameError(f"{what} {_shown(value)} is not a plain file name (no /, \\, .. or leading dot)")
    return value


def path_inside(root: Path, name: str, what: str) -> Path:
    """``root / name`` for a checked bare name, proven (after resolving links) to stay in ``root``."""
    path = (root / checked_file_name(name, what)).resolve()
    if not path.is_relative_to(root.resolve()):
        raise UnsafeNameError(f"{what} {_shown(name)} points outside {root}")
    return path
