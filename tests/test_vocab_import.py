"""import_paths: graphs per vocabulary, replacement on re-import, errors that name the
file and line, failed files that leave the old graph alone, directories, listing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox

from kg import terms as T
from kg.vocab import import_paths, list_vocabularies
from kg.vocab.records import VocabularyFileError
from tests.vocab_support import VOCAB_FIXTURES, graph_view


def _copy(tmp: Path, *names: str) -> list[Path]:
    out = []
    for n in names:
        shutil.copy(VOCAB_FIXTURES / n, tmp / n)
        out.append(tmp / n)
    return out


def test_one_graph_per_vocabulary_with_scheme_and_checksum() -> None:
    store = ox.Store()
    report = import_paths(store, [VOCAB_FIXTURES / "desc2024_mini.xml", VOCAB_FIXTURES / "cl_mini.obo"])
    assert report.ok
    graphs = {g.value for g in store.named_graphs()}
    assert graphs == {T.vocab_graph_iri(v).value for v in ("mesh", "cl", "curated")}
    for v in report.vocabularies:
        g = T.vocab_graph_iri(v.vocabulary)
        assert list(store.quads_for_pattern(g, T.RDF_TYPE, T.SKOS_CONCEPT_SCHEME, g))
        checksums = [q.object.value for q in store.quads_for_pattern(g, T.checksum, None, g)]
        assert checksums == [v.checksum]
        assert v.quads == sum(1 for _ in store.quads_for_pattern(None, None, None, g))
    sources = [q.object.value for q in store.quads_for_pattern(None, T.sourceFile, None, T.vocab_graph_iri("mesh"))]
    assert sources == ["desc2024_mini.xml"]


def test_reimport_replaces_the_vocabulary_graph(tmp_path: Path) -> None:
    store = ox.Store()
    import_paths(store, [VOCAB_FIXTURES / "desc2024_mini.xml"], curated_vocabulary=False)
    assert "D011565" in graph_view(store, "mesh")
    before_cl = sorted(str(q) for q in store.quads_for_pattern(None, None, None, T.vocab_graph_iri("cl")))
    # a different MeSH file: the old MeSH concepts are gone, other vocabularies untouched
    import_paths(store, [VOCAB_FIXTURES / "mesh_terms_mini.tsv"], curated_vocabulary=False)
    view = graph_view(store, "mesh")
    assert set(view) == {"D001327", "D007154", "D008180"}
    assert before_cl == sorted(str(q) for q in store.quads_for_pattern(None, None, None, T.vocab_graph_iri("cl")))
    # the same input again gives the same graph
    dump = sorted(str(q) for q in store)
    import_paths(store, [VOCAB_FIXTURES / "mesh_terms_mini.tsv"], curated_vocabulary=False)
    assert sorted(str(q) for q in store) == dump


def test_a_bad_file_is_reported_with_its_line_and_leaves_the_graph(tmp_path: Path) -> None:
    store = ox.Store()
    import_paths(store, [VOCAB_FIXTURES / "mesh_terms_mini.tsv"], curated_vocabulary=False)
    before = sorted(str(q) for q in store)
    terms, trees = _copy(tmp_path, "mesh_terms_mini.tsv", "mesh_trees_mini.tsv")
    lines = trees.read_text().splitlines()
    lines[2] = "D008180\tLupus Erythematosus, Systemic\tnot-a-tree-number\tC"
    trees.write_text("\n".join(lines) + "\n")
    report = import_paths(store, [terms, trees], curated_vocabulary=False)
    assert not report.ok
    (error,) = report.errors
    assert isinstance(error, VocabularyFileError)
    assert error.file == str(trees) and error.line == 3
    assert str(error).startswith(f"{trees}:3: ")
    (mesh,) = report.vocabularies
    assert not mesh.written and mesh.reason is not None and str(trees) in mesh.reason
    assert sorted(str(q) for q in store) == before  # the MeSH graph was not replaced


def test_malformed_ntriples_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mesh.nt"
    text = (VOCAB_FIXTURES / "mesh2024_mini.nt").read_text().splitlines()
    text[3] = text[3][:-2]  # drop the final " ."
    bad.write_text("\n".join(text) + "\n")
    report = import_paths(ox.Store(), [bad], curated_vocabulary=False)
    (error,) = report.errors
    assert isinstance(error, VocabularyFileError)
    # the parser notices the missing dot of line 4 where line 5 begins
    assert (error.file, error.line) == (str(bad), 5)
    assert "followed by a dot" in error.reason


def test_unknown_file_named_explicitly_is_an_error_but_in_a_directory_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# vocabularies\n")
    _copy(tmp_path, "chebi_names_mini.tsv")
    store = ox.Store()
    report = import_paths(store, [tmp_path], curated_vocabulary=False)
    assert report.ok
    notes = {Path(f.path).name: f.note for f in report.files}
    assert notes == {"README.md": "not a vocabulary file (skipped)", "chebi_names_mini.tsv": None}
    report = import_paths(store, [tmp_path / "README.md", tmp_path / "missing.obo"], curated_vocabulary=False)
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'README.md'}: not a vocabulary format trialkg reads",
        f"{tmp_path / 'missing.obo'}: no such file or directory",
    ]


def test_list_vocabularies() -> None:
    store = ox.Store()
    import_paths(store, [VOCAB_FIXTURES / "desc2024_mini.xml", VOCAB_FIXTURES / "uberon_mini.json"])
    rows = {r.vocabulary: r for r in list_vocabularies(store)}
    assert set(rows) == {"mesh", "uberon", "curated"}
    assert rows["mesh"].concepts == 5
    assert rows["uberon"].concepts == 4
    assert rows["mesh"].sources == ["desc2024_mini.xml"]
    assert rows["mesh"].checksum is not None


def test_reimport_of_a_changed_file_on_disk_keeps_only_the_new_content(tmp_path: Path) -> None:
    """Most of the graph stays: the graph is updated in place, and ends equal to a fresh import."""
    store = ox.Store(str(tmp_path / "store"))
    (terms,) = _copy(tmp_path, "mesh_terms_mini.tsv")
    import_paths(store, [terms], curated_vocabulary=False)
    lines = terms.read_text().splitlines()
    terms.write_text(
        "\n".join([*lines[:-1], lines[-1].replace("Libman Sacks Disease", "Libman-Sacks Endocarditis")]) + "\n"
    )
    report = import_paths(store, [terms], curated_vocabulary=False)
    fresh = ox.Store()
    import_paths(fresh, [terms], curated_vocabulary=False)
    assert sorted(str(q) for q in store) == sorted(str(q) for q in fresh)
    assert "Libman-Sacks Endocarditis" in graph_view(store, "mesh")["D008180"].alt
    assert "Libman Sacks Disease" not in graph_view(store, "mesh")["D008180"].alt
    g = T.vocab_graph_iri("mesh")
    assert [q.object.value for q in store.quads_for_pattern(g, T.checksum, None, g)] == [
        report.vocabularies[0].checksum
    ]
