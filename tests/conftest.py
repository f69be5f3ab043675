"""Shared fixtures. Feature-specific fixtures live in tests/plugins/, one module per owner."""

from __future__ import annotations

pytest_plugins = [
    "tests.plugins.assets",
    "tests.plugins.broker",
    "tests.plugins.disk",
    "tests.plugins.processes",
]
