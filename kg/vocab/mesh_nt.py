"""MeSH from NLM's MeSH RDF N-Triples (``mesh.nt``, ``mesh20XX.nt``), as documented at
https://hhs.github.io/meshrdf/ .

NLM's model: a descriptor (``meshv:TopicalDescriptor`` and the other descriptor
classes) or supplementary concept record (``meshv:SCR_Chemical``, ...) has an
``rdfs:label``, ``meshv:preferredConcept`` and ``meshv:concept`` links to concepts,
``meshv:treeNumber`` links to tree-number resources (``mesh:C17.800.859.675``),
``meshv:broaderDescriptor`` links, ``meshv:preferredMappedTo`` (SCRs) and
``meshv:pharmacologicalAction``. A concept has ``meshv:preferredTerm`` and
``meshv:term`` links to terms; a term has ``meshv:prefLabel`` and ``meshv:altLabel``
(permuted forms). Year-specific files put the year in every IRI
(``http://id.nlm.nih.gov/mesh/2024/D000001``); the year is dropped so that every
concept gets the version-less IRI trialkg uses.

Entry terms of a record are the labels of the terms of all its concepts. Qualifiers,
descriptor/qualifier pairs and the other NLM properties are not represented; the
report counts the triples left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg import terms as T
from kg.vocab import _mesh
from kg.vocab._io import head_lines, open_binary
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "mesh-nt"
DESCRIPTION = "MeSH RDF N-Triples from NLM (mesh.nt, mesh20XX.nt)"
VOCABULARY = _mesh.VOCABULARY

_MESH_IRI = re.compile(r"^http://id\.nlm\.nih\.gov/mesh/(?:\d{4}/)?([A-Z][0-9.]+(?:Q\d+)?)$")
_RDF_TYPE = T.RDF_TYPE.value
_RDFS_LABEL = T.RDFS_LABEL.value
_V = T.MESHV_NS

_RECORD_CLASSES = {
    "TopicalDescriptor",
    "PublicationType",
    "CheckTag",
    "GeographicalDescriptor",
    "SCR_Chemical",
    "SCR_Disease",
    "SCR_Protocol",
    "SCR_Organism",
    "SCR_Anatomy",
    "SCR_Population",
}


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 5)
    return bool(lines) and all(ln.startswith("<http://id.nlm.nih.gov/mesh/") for ln in lines)


def _local(value: str) -> str | None:
    m = _MESH_IRI.match(value)
    return m.group(1) if m else None


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    name = str(path)
    kinds: dict[str, str] = {}
    labels: dict[str, str] = {}
    concepts: dict[str, list[str]] = defaultdict(list)  # record -> concepts (preferred first)
    terms: dict[str, list[str]] = defaultdict(list)  # concept -> terms
    term_labels: dict[str, list[str]] = defaultdict(list)  # term -> labels
    trees: dict[str, list[str]] = defaultdict(list)
    broader: dict[str, list[str]] = defaultdict(list)
    actions: dict[str, list[str]] = defaultdict(list)
    p_pref_concept, p_concept = _V + "preferredConcept", _V + "concept"
    p_pref_term, p_term = _V + "preferredTerm", _V + "term"
    p_pref_label, p_alt_label = _V + "prefLabel", _V + "altLabel"
    p_tree, p_broader = _V + "treeNumber", _V + "broaderDescriptor"
    p_mapped, p_action = _V + "preferredMappedTo", _V + "pharmacologicalAction"
    try:
        with open_binary(path) as f:
            for triple in ox.parse(f, format=ox.RdfFormat.N_TRIPLES):
                stats.rows += 1
                s = _local(triple.subject.value)
                if s is None:
                    stats.skip("triple about a resource outside MeSH")
                    continue
                p = triple.predicate.value
                o = triple.object
                if p == _RDF_TYPE:
                    if o.value.startswith(_V) and o.value[len(_V) :] in _RECORD_CLASSES:
                        kinds[s] = o.value[len(_V) :]
                    continue
                if p == _RDFS_LABEL:
                    if isinstance(o, ox.Literal) and s[0] in "CD" and "Q" not in s:
                        labels[s] = o.value
                    continue
                if isinstance(o, ox.Literal):
                    if p in (p_pref_label, p_alt_label):
                        term_labels[s].append(o.value)
                    else:
                        stats.skip("other literal property (notes, dates, identifiers)")
                    continue
                target = _local(o.value)
                if target is None:
                    stats.skip("link to a resource outside MeSH")
                    continue
                if p == p_pref_concept:
                    concepts[s].insert(0, target)
                elif p == p_concept:
                    concepts[s].append(target)
                elif p == p_pref_term:
                    terms[s].insert(0, target)
                elif p == p_term:
                    terms[s].append(target)
                elif p == p_tree:
                    trees[s].append(target)
                elif p == p_broader:
                    broader[s].append(target)
                elif p == p_mapped:
                    broader[s].append(target.split("Q", 1)[0])
                elif p == p_action:
                    actions[s].append(target)
                else:
                    stats.skip("other MeSH relation (qualifiers, see-also, concept relations)")
    except SyntaxError as exc:
        raise VocabularyFileError(name, f"N-Triples syntax error: {exc.msg}", line=exc.lineno) from exc
    for ui in sorted(kinds):
        label = labels.get(ui)
        if label is None:
            stats.skip("record without rdfs:label")
            continue
        record = ConceptRecord(_mesh.iri(ui), _mesh.VOCABULARY, label=label, types=[_mesh.type_iri(kinds[ui])])
        seen = {label}
        for concept in dict.fromkeys(concepts.get(ui, [])):
            for term in dict.fromkeys(terms.get(concept, [])):
                for text in term_labels.get(term, []):
                    if text not in seen:
                        seen.add(text)
                        record.synonyms.append(Synonym(text))
        record.notations = [t for t in dict.fromkeys(trees.get(ui, [])) if _mesh.is_tree_number(t)]
        record.broader = [_mesh.iri(b) for b in dict.fromkeys(broader.get(ui, [])) if _mesh.is_ui(b)]
        record.pharmacological_actions = [_mesh.iri(a) for a in dict.fromkeys(actions.get(ui, [])) if _mesh.is_ui(a)]
        yield record
