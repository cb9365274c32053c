"""Upgrade steps between schema versions of the workspace database.

Each step takes a connection inside the upgrade transaction and moves the schema one
version up. Version 1 is the first released schema, so there are no steps yet; the
registry is here so that a too-old database gets a precise message and `calibrate
upgrade` has one place to grow.
"""

from __future__ import annotations

from typing import Callable

STEPS: dict[int, Callable] = {}
"""``STEPS[v]`` upgrades a database from version ``v`` to ``v + 1``."""


def upgrade_steps(from_version: int, to_version: int) -> list[Callable]:
    """The steps that take a database from ``from_version`` to ``to_version``."""
    missing = [v for v in range(from_version, to_version) if v not in STEPS]
    if missing:
        return []
    return [STEPS[v] for v in range(from_version, to_version)]
