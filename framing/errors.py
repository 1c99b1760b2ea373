"""One exception hierarchy for everything the toolkit raises on purpose.

Each class also subclasses the built-in it resembles, so callers that do not know
``framing`` can still catch ``ValueError`` or ``FileNotFoundError``.  The CLI turns
any :class:`FramingError` into a one-line message and an exit code; library code
never prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


class FramingError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    #: Process exit code the CLI uses for this error.
    exit_code = 1


class UsageError(FramingError, ValueError):
    """The caller asked for something impossible (bad option, missing path)."""

    exit_code = 2


class InputNotFoundError(UsageError, FileNotFoundError):
    """A path given by the user does not exist or holds no usable file."""


class CodebookError(FramingError, ValueError):
    """A codebook file is malformed or inconsistent."""


class AnnotationError(FramingError, ValueError):
    """Annotation data is malformed; ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ConfigError(FramingError, ValueError):
    """A training configuration is invalid."""

    exit_code = 2


class ModelError(FramingError, ValueError):
    """A model folder is missing, incomplete or incompatible."""


class UntrustedModelError(ModelError, TypeError):
    """A model file holds types that are not on the list of trusted types."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located by file and line."""

    path: str
    line: int | None
    message: str
    hint: str | None = None
    severity: Severity = "error"
    code: str = "invalid"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.severity}: {self.describe()}"

    def describe(self) -> str:
        """The message with its hint, without location or severity."""
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def located(self) -> str:
        """``file:line: message (hint)``, for one-line errors."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class MissingExtraError(FramingError, ImportError):
    """A feature needs an optional dependency group (``pip install 'framing[EXTRA]'``)."""

    exit_code = 2
