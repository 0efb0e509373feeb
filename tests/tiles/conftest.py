"""The tiles draw the same known things as the map layers."""

from tests.map.conftest import mapdata  # noqa: F401
