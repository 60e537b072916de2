"""trialkg: clinical-trial records to an RDF knowledge graph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trialkg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.5.4"
