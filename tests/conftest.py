"""The engine matrix: every behaviour suite runs on each engine of ``pipeline.engines.REGISTRY``.

An engine that needs more than this process (Spark: a JVM, a session) carries its marker
(``EngineSpec.test_marker``); its tests run with ``--all-engines``, which CI passes, and are
skipped otherwise, with that reason shown.
"""

from __future__ import annotations

import pytest

from pipeline.engines import REGISTRY

MARKERS = {spec.test_marker: spec.name for spec in REGISTRY.values() if spec.test_marker}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-engines",
        action="store_true",
        help=f"also run the tests of the engines with a marker ({', '.join(MARKERS)}): CI does",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, engine in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: runs --engine {engine} (--all-engines)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--all-engines"):
        return
    for item in items:
        for marker, engine in MARKERS.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"{engine}: run with --all-engines (CI)"))
