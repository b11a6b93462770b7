"""Helpers of the browser, hostile-input and personal-data tests (not collected by pytest)."""
