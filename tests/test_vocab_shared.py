"""The full shared vocabulary imports completely: the counts the files' own documentation
(../shared/vocab/SOURCES.md) states, and its spot checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import terms as T
from tests.vocab_support import graph_view, shared_store

pytestmark = pytest.mark.slow


def _files(vocab_dir: Path) -> dict[str, object]:
    _, report = shared_store(vocab_dir)
    return {Path(f.path).name: f for f in report.files}


def test_every_shared_file_loads(vocab_dir: Path) -> None:
    _, report = shared_store(vocab_dir)
    assert report.ok, report.errors
    files = _files(vocab_dir)
    assert files["SOURCES.md"].note == "not a vocabulary file (skipped)"
    assert all(v.written for v in report.vocabularies)
    assert {v.vocabulary for v in report.vocabularies} == {
        "mesh",
        "mesh-mappings",
        "cl",
        "uberon",
        "chebi",
        "drugbank",
        "curated",
    }


def test_counts_stated_by_the_sources(vocab_dir: Path) -> None:
    files = _files(vocab_dir)
    # "263,936 term rows covering 30,764 descriptors"
    assert files["mesh2024_descriptor_terms.tsv.gz"].rows == 263_936
    assert files["mesh2024_descriptor_terms.tsv.gz"].concepts == 30_764
    # "64,342 tree numbers covering 30,652 descriptors"
    assert files["mesh2024_tree_numbers.tsv.gz"].rows == 64_342
    assert files["mesh2024_tree_numbers.tsv.gz"].concepts == 30_652
    # "15,090 rows covering 10,342 records, of which 7,527 are SCRs"
    pharm = files["mesh2022_pharmacological_actions.tsv"]
    assert pharm.rows == 15_090 and pharm.concepts == 7_527
    # "3,596 CL terms, 272 deprecated"; "16,358 UBERON terms, 1,387 deprecated"
    cl = files["CL-ontology-v2026-03-26.json.gz"]
    assert cl.rows == 3_596 and cl.concepts == 3_596 - 272
    uberon = files["UBERON-ontology-v2026-04-01.json.gz"]
    assert uberon.rows == 16_358 and uberon.concepts == 16_358 - 1_387
    # "2,692 [Term] stanzas, 2,683 of them CL:"
    obo = files["cl-basic.obo"]
    assert obo.rows == 2_692 and obo.skipped["term of another ontology"] == 2_692 - 2_683
    # ChEBI "Rows: 57,042"; DrugBank "29,144 covering 13,623 DrugBank IDs"
    assert files["bel_chebi_map.tsv"].rows == 57_042
    drugbank = files["drugbank_mappings.tsv"]
    assert drugbank.rows == 29_144
    # "Targets: ... CHEBI 6,287 ... UBERON 130; CL 81": one exactMatch per row
    store, _ = shared_store(vocab_dir)
    g = T.vocab_graph_iri("mesh-mappings")
    assert sum(1 for _ in store.quads_for_pattern(None, T.SKOS_EXACT_MATCH, None, g)) == 6_287 + 130 + 81


def test_spot_checks(vocab_dir: Path) -> None:
    store, _ = shared_store(vocab_dir)
    mesh = graph_view(store, "mesh")
    assert mesh["D011565"].label == "Psoriasis"
    assert mesh["D011565"].notations == {"C17.800.859.675"}
    assert mesh["D008180"].notations == {"C17.300.480", "C20.111.590"}
    assert "D001327" in mesh["D008180"].broader
    assert mesh["D013167"].notations == {
        "C05.116.900.853.625.800.744.500",
        "C05.550.069.340.500",
        "C05.550.114.865.800.744.500",
    }
    assert mesh["D001327"].notations == {"C20.111"}
    # Immune System Diseases holds C20 only through the tree table's level-1 columns
    assert mesh["D001327"].broader == {"D007154"}
    assert mesh["C055085"].label == "calcipotriene"
    assert mesh["C055085"].actions == {"D003879"}
    assert mesh["D059631"].label == "Wharton Jelly"
    assert mesh["D059631"].notations == {"A10.165.970"}
    cl = graph_view(store, "cl")
    assert {"CL:0000048", "CL:0002320"} <= cl["CL:0000134"].broader
    assert graph_view(store, "chebi")["CHEBI:50749"].label == "calcipotriol"
    assert "CHEBI:50749" in graph_view(store, "drugbank")["DB02300"].matches
