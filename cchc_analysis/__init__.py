"""cchc_analysis: ingest, validate and report on Vietnamese administrative-procedure data.

The package is the single home of every computation; notebooks only call into it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cchc-workbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
