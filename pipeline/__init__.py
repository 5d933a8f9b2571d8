"""The organization segmentation engine. For notebooks and orchestrators: ``Project``
(see docs/api.md); the ``segments`` command is ``pipeline.cli``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.api import Project

try:
    #: The installed version (``segments --version``).
    __version__ = version("segments-pipeline")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"


__all__ = ["Project", "__version__"]


def __getattr__(name: str) -> Any:
    """``Project`` imported on first use: ``segments --version`` stays quick."""
    if name == "Project":
        from pipeline.api import Project

        return Project
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
