"""newsmon: poll news feeds, extract articles, tag immigration policy, attribute statements, index, alert.

The stages are plain functions over the records in `pipeline.records`; `pipeline.run` chains them
and `pipeline.ops` holds the command line, the demo and the local Airflow controller.
See docs/ARCHITECTURE.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsmon")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
