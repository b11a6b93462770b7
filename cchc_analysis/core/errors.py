"""One family of errors: everything the user can act on derives from :class:`CchcError`.

The command line catches ``CchcError`` once and prints it as one line (``cchc: error: …``)
with the error's ``exit_code``; a researcher in JupyterLab can catch the same one type. Each
error also derives from the built-in type callers caught before (``ValueError``,
``LookupError`` …), so existing ``except`` clauses keep working.

Exit codes (README "Exit codes"): 0 all accepted; 1 some rows rejected (or, for ``cchc
run``, part of the batch failed); 2 unusable input or usage; 3 an environment failure (the
machine, not the input: a read-only or full disk, no permission, out of memory, a kernel that
cannot start). :func:`environment_error` turns the built-in errors of the machine into one.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Any

EXIT_OK = 0
EXIT_REJECTS = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class CchcError(Exception):
    """An error the user can act on; the CLI prints it as one line."""

    exit_code: int = EXIT_USAGE


class UsageError(CchcError, ValueError):
    """A command-line option or combination the command cannot use."""


class PeriodError(CchcError, ValueError):
    """A period text that is not one of the accepted forms."""


class UnknownUnitError(CchcError, KeyError, ValueError):
    """No unit of that code or name in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AmbiguousUnitError(CchcError, ValueError):
    """Several units match; ``candidates`` lists them so the caller can pick by code."""

    def __init__(self, message: str, candidates: Iterable[Any] = ()) -> None:
        super().__init__(message)
        self.candidates: list[Any] = list(candidates)


class UnitMapError(CchcError, ValueError):
    """A unit-map file (name as a system spells it -> unit code) that cannot be used."""


class ParseError(CchcError, ValueError):
    """A cell that cannot be read; ``code`` is the reason key used in ingest reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SourceError(CchcError, ValueError):
    """A file that cannot be read at all (not a workbook, no such sheet, unknown encoding)."""


class IngestError(CchcError, ValueError):
    """A file that cannot be ingested at all; nothing is written."""


class DataFolderError(CchcError, FileNotFoundError):
    """A data folder that is missing or does not hold what the command needs."""


class UnitNotInDataError(CchcError, LookupError):
    """A unit that exists but has no rows in the data folder."""


class PeriodReportError(CchcError, LookupError):
    """Biểu 06 rows that do not cover the period asked."""


class LockBusyError(CchcError, RuntimeError):
    """Another run holds the folder's lock."""


class ParameterError(CchcError, ValueError):
    """A notebook parameter the notebook does not declare."""


class ExecutorError(CchcError, RuntimeError):
    """The Dask executor cannot be reached or used."""


class ConfigError(CchcError, ValueError):
    """A scheduled run's configuration that cannot be used."""


class KernelStartError(CchcError, RuntimeError):
    """A Jupyter kernel that would not start (the machine, not the input)."""

    exit_code = EXIT_ENVIRONMENT


class EnvironmentFault(CchcError, OSError):
    """The machine stopped the run (disk full or read-only, no permission, out of memory);
    nothing was changed, and the same command succeeds once the cause is fixed."""

    exit_code = EXIT_ENVIRONMENT


# errno -> what the user should do about it
_ENVIRONMENT_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "the disk is full; free space and run again",
    errno.EDQUOT: "the disk quota is used up; free space and run again",
    errno.EROFS: "the file system is read-only; give a writable folder",
    errno.EACCES: "permission denied; run as a user who may write there",
    errno.EPERM: "operation not permitted; run as a user who may write there",
    errno.EIO: "input/output error; check the disk",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run again",
    errno.ENOTDIR: "a file stands where a folder is expected; move it away",
    errno.EISDIR: "a folder stands where a file is expected; move it away",
}
_ENVIRONMENT_TEXTS = {
    "no space left on device": errno.ENOSPC,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
}


def environment_error(exc: BaseException) -> EnvironmentFault | None:
    """The one-line :class:`EnvironmentFault` for an ``OSError`` or ``MemoryError`` of the
    machine, naming the file where known; None for other errors (a bug: let it show)."""
    if isinstance(exc, CchcError):
        return None
    if isinstance(exc, MemoryError):
        return EnvironmentFault(
            "out of memory; close other programs or run on a machine with more memory "
            "(inputs are read in bounded chunks, so this is the machine, not the file)"
        )
    if not isinstance(exc, OSError):
        return None
    code = exc.errno
    if code not in _ENVIRONMENT_ERRNOS:  # pyarrow's IO errors carry the text, not the errno
        text = str(exc).lower()
        code = next((c for t, c in _ENVIRONMENT_TEXTS.items() if t in text), code)
    if code not in _ENVIRONMENT_ERRNOS:
        return None
    where = exc.filename or ""
    return EnvironmentFault(
        f"{where}: {_ENVIRONMENT_ERRNOS[code]}" if where else (_ENVIRONMENT_ERRNOS[code])
    )
