"""The curated vocabulary: it parses, its IDs and labels are the ontologies' own, the
broader cell types it states are true in the Cell Ontology, and bad rows are reported
with their line."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from kg.vocab.curated import KINDS, bundled, parse
from kg.vocab.records import VocabularyFileError


@pytest.fixture(scope="module")
def ontologies(vocab_dir: Path) -> dict[str, dict]:
    """Term ID -> {label, deprecated, ancestors} from the shared CL and UBERON JSON."""
    out: dict[str, dict] = {}
    for path in sorted((vocab_dir / "cl").glob("*.json.gz")) + sorted((vocab_dir / "uberon").glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            out.update(json.load(f))
    return out


def test_bundled_vocabulary_parses_with_every_kind() -> None:
    curated = bundled()
    assert {r.kind for r in curated.rows} == set(KINDS)
    assert curated.labels["CL:0000134"] == "mesenchymal stem cell"
    assert curated.refinements()[("CL:0000134", "UBERON:0001013")] == "CL:0002570"
    assert curated.generalisations()["CL:0002569"] == ("CL:0000134", "UBERON:0002331")
    assert curated.broader_cell_types()["CL:0002570"] == {"CL:0000134", "CL:0000034"}


def test_ids_and_labels_are_the_ontologies_own(ontologies: dict[str, dict]) -> None:
    for curie, label in bundled().labels.items():
        if curie.startswith(("CL:", "UBERON:")):
            term = ontologies.get(curie)
            assert term is not None, f"{curie} is not in the shared CL/UBERON files"
            assert not term["deprecated"], f"{curie} is deprecated"
            assert term["label"] == label, f"{curie}: {term['label']!r} != {label!r}"
    for row in bundled().rows:
        for ref in row.refs:
            if ref.startswith(("CL:", "UBERON:")):
                assert ref in ontologies and not ontologies[ref]["deprecated"], ref


def test_stated_broader_cell_types_are_cell_ontology_ancestors(ontologies: dict[str, dict]) -> None:
    for cl, broader in bundled().broader_cell_types().items():
        ancestors = set(ontologies[cl]["ancestors"])
        assert broader <= ancestors, f"{cl}: {broader - ancestors} are not CL ancestors"


def test_xref_targets_exist(vocab_dir: Path) -> None:
    with (vocab_dir / "mesh" / "mesh2022_pharmacological_actions.tsv").open(encoding="utf-8") as f:
        scr_names = {row["DescriptorUI"]: row["DescriptorName"] for row in csv.DictReader(f, delimiter="\t")}
    with (vocab_dir / "chebi" / "bel_chebi_map.tsv").open(encoding="utf-8") as f:
        chebi = {cells[1]: cells[0] for cells in csv.reader(f, delimiter="\t")}
    for row in bundled().of_kind("xref"):
        assert scr_names[row.id.removeprefix("MESH:")] == row.label
        assert row.refs[0] in chebi


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("cell_kind\tCL:0000134\tmesenchymal stem cell\tMSC\t\t", "unknown kind 'cell_kind'"),
        ("cell_type\tUBERON:0002331\tumbilical cord\tcord\t\t", "'UBERON:0002331' is not a CL ID"),
        ("refine\tCL:0002569\tmesenchymal stem cell of umbilical cord\t\tCL:0000134\t", "refs must be"),
        ("origin\tXENOGENEIC\t\txenogeneic\t\t", "'XENOGENEIC' is not a CellOrigin"),
        ("tissue\tUBERON:0002331\tumbilical cord\t\t\t", "no terms"),
    ],
)
def test_bad_rows_are_reported_with_their_line(tmp_path: Path, row: str, reason: str) -> None:
    path = tmp_path / "curated.tsv"
    path.write_text("# trialkg curated vocabulary\nkind\tid\tlabel\tterms\trefs\tnote\n" + row + "\n")
    with pytest.raises(VocabularyFileError) as err:
        parse(path)
    assert err.value.line == 3
    assert reason in err.value.reason
