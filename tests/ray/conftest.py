"""Fixtures of the Ray tests: the stand-in Ray dashboard."""

from ..support.ray_dashboard import standin  # noqa: F401 (fixture)
