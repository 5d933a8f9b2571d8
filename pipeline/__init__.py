from importlib.metadata import PackageNotFoundError, version

try:
    #: The installed version (``segments --version``).
    __version__ = version("segments-pipeline")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
