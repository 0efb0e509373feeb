"""Errors: JSON to programs, a page to browsers; undecodable input refused up front."""

from flask import Flask

from fieldwatch.errors import input as bad_input
from fieldwatch.errors import pages


def register(app: Flask) -> None:
    pages.register(app)
    bad_input.register(app)


__all__ = ["register"]
