"""The ontology, the shapes and the queries are tested data (STYLE.md #3, #5).

- every .ttl in ontology/ and shapes/ parses, every .rq parses;
- every term the mapping emits (classes, properties, enumeration individuals) is
  declared in the ontology or belongs to a known external vocabulary, checked on
  the hand-built maximal trial and on real corpus records;
- every term of kg.terms and every enumeration member is declared, labelled and
  (classes, properties) defined;
- shapes only target declared classes, only constrain declared properties, and
  their sh:in lists are exactly the enumerations' value sets;
- the ontology is consistent under HermiT (owlready2; needs Java), also with the
  maximal trial's graph as instance data.
"""

from __future__ import annotations

import inspect
import shutil
from enum import StrEnum
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS
from rdflib.plugins.sparql import prepareQuery

import kg
import kg.enums as E
from kg import resources
from kg import terms as T
from kg.mapping import MappingOptions, trial_quads
from kg.reader import read_trials
from kg.vocab import import_paths
from tests.conftest import EXAMPLES
from tests.maximal import maximal_trial
from tests.vocab_support import VOCAB_FIXTURES

TKG = rdflib.Namespace(T.TKG_NS)
ENUMS = [c for _, c in inspect.getmembers(E, inspect.isclass) if issubclass(c, StrEnum) and c is not StrEnum]
DECLARING_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual}


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(resources.ontology_file(), format="turtle")


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    g = rdflib.Graph()
    for f in resources.shape_files():
        g.parse(f, format="turtle")
    return g


def declared(onto: rdflib.Graph) -> set[str]:
    return {str(s) for t in DECLARING_TYPES for s in onto.subjects(RDF.type, t)}


def _ttl_files() -> list[Path]:
    return sorted([*resources.ontology_dir().glob("*.ttl"), *resources.shapes_dir().glob("*.ttl")])


def test_data_directories_are_found() -> None:
    assert resources.ontology_file().is_file()
    assert resources.shape_files(), "no shapes in shapes/"
    assert resources.qc_query_files(), "no quality-check queries in queries/qc/"


@pytest.mark.parametrize("path", _ttl_files(), ids=lambda p: p.name)
def test_turtle_parses(path: Path) -> None:
    g = rdflib.Graph().parse(path, format="turtle")
    assert len(g) > 100
    # and Oxigraph reads it the same
    assert len(list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))) == len(g)


@pytest.mark.parametrize("path", sorted(resources.queries_dir().rglob("*.rq")), ids=lambda p: p.name)
def test_query_parses_and_has_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    prepareQuery(text)  # rdflib's parser
    ox.Store().query(text)  # Oxigraph's parser (the embedded store runs them)
    header = [line for line in text.splitlines() if line.startswith("#")]
    joined = "\n".join(header).lower()
    # "# parameters: none", or one "# param: ..." line per parameter
    assert "title:" in joined and "question:" in joined and "param" in joined, f"{path.name}: comment header"


def _emitted(quads: list[ox.Quad]) -> set[str]:
    """Terms a graph uses as vocabulary: predicates, classes and tkg: individuals."""
    out: set[str] = set()
    for q in quads:
        out.add(q.predicate.value)
        if q.predicate == T.RDF_TYPE or (isinstance(q.object, ox.NamedNode) and q.object.value.startswith(T.TKG_NS)):
            out.add(q.object.value)
    return out


def _undeclared(terms: set[str], onto: rdflib.Graph) -> set[str]:
    known = declared(onto)
    return {t for t in terms if t not in known and not t.startswith(T.EXTERNAL_NAMESPACES)}


def test_ontology_version_is_the_package_version(onto: rdflib.Graph) -> None:
    """The ontology is released with the package: a graph written by trialkg X.Y.Z
    (tkg:toolVersion) is described by ontology X.Y.Z."""
    ont = rdflib.URIRef("https://w3id.org/trialkg/ontology")
    assert str(onto.value(ont, OWL.versionInfo)) == kg.__version__
    assert onto.value(ont, OWL.versionIRI) == rdflib.URIRef(f"{ont}/{kg.__version__}")


def test_maximal_trial_emits_only_declared_terms(onto: rdflib.Graph) -> None:
    options = MappingOptions(include_contacts=True, ingest_time="2024-01-01T00:00:00Z", links="none")
    quads = trial_quads(maximal_trial(), options)
    used = _emitted(quads)
    assert _undeclared(used, onto) == set()
    # the maximal trial really exercises the vocabulary: every tkg class and property of kg.terms
    tkg_terms = {v.value for n, v in vars(T).items() if isinstance(v, ox.NamedNode) and v.value.startswith(T.TKG_NS)}
    # recordLastUpdateText is written only for unreadable dates; labelKey by the vocabulary import
    not_exercised = tkg_terms - used - {T.recordLastUpdateText.value, T.labelKey.value}
    assert not_exercised == set(), "extend tests/maximal.py to set the fields that emit these"


def test_corpus_and_page_records_emit_only_declared_terms(onto: rdflib.Graph, corpus_dir: Path) -> None:
    used: set[str] = set()
    n = 0
    for item in read_trials([corpus_dir, EXAMPLES / "pages"]):
        if hasattr(item, "nct_id"):
            used |= _emitted(trial_quads(item, MappingOptions(include_contacts=True)))
            n += 1
    assert n > 2000
    assert _undeclared(used, onto) == set()


def test_vocabulary_graphs_emit_only_declared_terms(onto: rdflib.Graph) -> None:
    """The vocabulary import writes SKOS, oboInOwl, MeSH vocabulary terms and tkg:labelKey."""
    store = ox.Store()
    import_paths(store, sorted(p for p in VOCAB_FIXTURES.iterdir() if p.is_file()))
    used = _emitted(list(store))
    assert T.labelKey.value in used and T.SKOS_PREF_LABEL.value in used
    assert _undeclared(used, onto) == set()


def test_every_kg_term_is_declared_labelled_and_defined(onto: rdflib.Graph) -> None:
    for name, v in vars(T).items():
        if not (isinstance(v, ox.NamedNode) and v.value.startswith(T.TKG_NS)):
            continue
        s = rdflib.URIRef(v.value)
        kinds = set(onto.objects(s, RDF.type))
        expected = {OWL.Class} if name[0].isupper() else {OWL.ObjectProperty, OWL.DatatypeProperty}
        assert kinds & expected, f"tkg:{name} not declared as {expected}"
        assert onto.value(s, RDFS.label) is not None, f"tkg:{name} has no rdfs:label"
        assert onto.value(s, SKOS.definition) is not None, f"tkg:{name} has no skos:definition"
        if name[0].islower():
            assert onto.value(s, RDFS.domain) is not None and onto.value(s, RDFS.range) is not None, name


def test_every_enumeration_member_is_an_individual(onto: rdflib.Graph) -> None:
    for enum in ENUMS:
        cls = rdflib.URIRef(T.enum_class(enum).value)
        assert (cls, RDF.type, OWL.Class) in onto, enum.__name__
        assert onto.value(cls, SKOS.definition) is not None
        members = {str(s) for s in onto.subjects(RDF.type, cls)}
        assert members == {T.enum_iri(m).value for m in enum}, enum.__name__
        for m in enum:
            s = rdflib.URIRef(T.enum_iri(m).value)
            assert (s, RDF.type, OWL.NamedIndividual) in onto
            assert str(onto.value(s, SKOS.notation)) == m.value
            assert onto.value(s, RDFS.label) is not None


def test_every_declared_tkg_term_is_a_kg_term_or_enumeration(onto: rdflib.Graph) -> None:
    """The ontology declares nothing in tkg: that kg.terms and kg.enums do not know."""
    known = {v.value for v in vars(T).values() if isinstance(v, ox.NamedNode)}
    known |= {T.enum_class(e).value for e in ENUMS} | {T.enum_iri(m).value for e in ENUMS for m in e}
    in_onto = {t for t in declared(onto) if t.startswith(T.TKG_NS)}
    assert in_onto - known == set()


def test_alignments_stated(onto: rdflib.Graph) -> None:
    schema = rdflib.Namespace(T.SCHEMA_NS)
    prov = rdflib.Namespace(T.PROV_NS)
    assert (TKG.ClinicalTrial, RDFS.subClassOf, schema.MedicalTrial) in onto
    assert (TKG.condition, RDFS.subPropertyOf, schema.healthCondition) in onto
    assert (TKG.SourceRecord, RDFS.subClassOf, prov.Entity) in onto
    obo = rdflib.Namespace(T.OBO_NS)
    assert (TKG.Phase_PHASE2, SKOS.exactMatch, obo.NCIT_C15601) in onto
    assert (TKG.InterventionModel_PARALLEL, SKOS.exactMatch, obo.OBI_0500006) in onto
    assert (TKG.Allocation_RANDOMIZED, SKOS.closeMatch, schema.RandomizedTrial) in onto
    # an ontology header with version, licence and metadata
    o = rdflib.URIRef("https://w3id.org/trialkg/ontology")
    assert (o, RDF.type, OWL.Ontology) in onto
    assert onto.value(o, OWL.versionIRI) is not None
    assert onto.value(o, rdflib.DCTERMS.license) is not None


def _rdf_list(g: rdflib.Graph, node: rdflib.term.Node) -> list[rdflib.term.Node]:
    return list(rdflib.collection.Collection(g, node))


def test_shapes_target_and_constrain_declared_terms(onto: rdflib.Graph, shapes: rdflib.Graph) -> None:
    known = declared(onto)
    targets = set(shapes.objects(None, SH.targetClass))
    assert targets, "no sh:targetClass"
    for c in targets:
        assert str(c) in known, f"a shape targets the undeclared class {c}"
    for c in shapes.objects(None, SH["class"]):
        assert str(c) in known, f"sh:class names the undeclared class {c}"
    for p in shapes.objects(None, SH.path):
        assert isinstance(p, rdflib.URIRef)
        assert str(p) in known or str(p).startswith(T.EXTERNAL_NAMESPACES), f"sh:path {p} is not declared"
    # every class the mapping emits has a shape
    emitted = {
        v.value
        for n, v in vars(T).items()
        if isinstance(v, ox.NamedNode) and n[0].isupper() and v.value.startswith(T.TKG_NS)
    }
    assert emitted - {str(t) for t in targets} == set()


def test_shape_value_sets_are_the_enumerations(shapes: rdflib.Graph) -> None:
    by_enum: dict[str, set[str]] = {e.__name__: {T.enum_iri(m).value for m in e} for e in ENUMS}
    checked = set()
    for shape, lst in shapes.subject_objects(SH["in"]):
        members = {str(x) for x in _rdf_list(shapes, lst)}
        if not all(m.startswith(T.TKG_NS) for m in members):
            continue
        names = {T.enum_value(m)[0] for m in members}  # type: ignore[index]
        assert len(names) == 1, f"{shape}: sh:in mixes enumerations"
        name = names.pop()
        assert members == by_enum[name], f"{shape}: sh:in is not the whole {name} value set"
        checked.add(name)
    # every enumeration the mapping writes has a value-set check somewhere
    assert set(by_enum) - checked == {"AgeUnit"}  # ages are written as xsd:duration, not AgeUnit individuals


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT (owlready2's reasoner) needs Java: install a JRE")
def test_ontology_is_consistent_under_hermit(onto: rdflib.Graph, tmp_path: Path) -> None:
    """HermiT through owlready2, with the maximal trial's graph as instance data.

    xsd:date, xsd:gYearMonth, xsd:gYear and xsd:duration are outside the OWL 2
    datatype map, so HermiT runs with --ignoreUnsupportedDatatypes."""
    data = rdflib.Graph()
    data += onto
    quads = trial_quads(maximal_trial(), MappingOptions(include_contacts=True, ingest_time="2024-01-01T00:00:00Z"))
    for q in quads:
        data.add(tuple(_to_rdflib(t) for t in (q.subject, q.predicate, q.object)))  # type: ignore[arg-type]
    path = tmp_path / "onto-and-data.nt"
    data.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load()
    with ontology:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True)
    assert list(world.inconsistent_classes()) == []
    # the reasoner did classify the data: the trial is a schema.org MedicalTrial by the alignment
    trial = world[T.trial_iri("NCT09900042").value]
    assert any(c.iri == T.SCHEMA_NS + "MedicalTrial" for c in trial.is_a) or any(
        c.iri == T.SCHEMA_NS + "MedicalTrial" for c in trial.INDIRECT_is_a
    )


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT (owlready2's reasoner) needs Java: install a JRE")
def test_hermit_detects_a_domain_clash(onto: rdflib.Graph, tmp_path: Path) -> None:
    """The consistency test can fail: an arm used as a trial's sponsor is inconsistent
    (Arm and Organization are disjoint)."""
    data = rdflib.Graph()
    data += onto
    arm = rdflib.URIRef(T.DATA_NS + "trial/NCT09900042/arm/1")
    data.add((arm, RDF.type, TKG.Arm))
    data.add((rdflib.URIRef(T.DATA_NS + "trial/NCT09900042"), TKG.leadSponsor, arm))
    path = tmp_path / "clash.nt"
    data.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load()
    with ontology, pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)


def _to_rdflib(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if t.language:
        return rdflib.Literal(t.value, lang=t.language)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
