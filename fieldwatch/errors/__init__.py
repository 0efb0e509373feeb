"""Errors: JSON to programs, a page to browsers."""

from fieldwatch.errors.pages import register

__all__ = ["register"]
