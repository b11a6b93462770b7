"""The installed distribution's version, stamped on every report and manifest."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cchc-workbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
