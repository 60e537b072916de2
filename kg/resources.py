"""The one place that knows where the shipped data files live.

``ontology/``, ``shapes/`` and ``queries/`` are top-level directories of the
source tree; the wheel force-includes them as ``kg/_data/ontology`` and so on
(see ``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``).
An installed wheel reads them from the package, an editable install or a source
checkout from the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent


@cache
def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _SOURCE_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"trialkg data directory {name!r} not found under {_PACKAGE / '_data'} or {_SOURCE_ROOT}: "
        "the installation is incomplete"
    )


def ontology_dir() -> Path:
    """Directory holding the OWL ontology (``trialkg.ttl``)."""
    return _data_dir("ontology")


def shapes_dir() -> Path:
    """Directory holding the SHACL shapes (``*.ttl``)."""
    return _data_dir("shapes")


def queries_dir() -> Path:
    """Directory holding the saved SPARQL queries (``*.rq``, quality checks in ``qc/``)."""
    return _data_dir("queries")


def ontology_file() -> Path:
    return ontology_dir() / "trialkg.ttl"


def shape_files() -> list[Path]:
    """Every SHACL shapes file, in a stable order."""
    return sorted(shapes_dir().glob("*.ttl"))


def qc_query_files() -> list[Path]:
    """Every quality-check query (``queries/qc/*-violation.rq``), in a stable order."""
    return sorted((queries_dir() / "qc").glob("*-violation.rq"))
