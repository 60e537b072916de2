"""Store statistics for ``trialkg stats``."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

import pyoxigraph as ox

from kg import terms as T
from kg.enums import DoseBasis
from kg.store import TrialStore


def _select(ts: TrialStore, query: str) -> ox.QuerySolutions:
    result = ts.store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)  # a SELECT query
    return result


def _count(ts: TrialStore, query: str) -> int:
    for sol in _select(ts, query):
        return int(sol[0].value)
    return 0


def store_stats(ts: TrialStore) -> dict[str, Any]:
    graphs = ts.trial_graphs()
    trials = {nct for nct, _ in graphs}
    sources_per_trial = Counter(nct for nct, _ in graphs)
    per_format: dict[str, int] = {}
    for q in ts.store.quads_for_pattern(None, T.sourceFormat, None, None):
        value = cast(ox.NamedNode, q.object).value  # an enum member's IRI (kg.mapping)
        fmt = T.enum_value(value)
        key = fmt[1] if fmt else value
        per_format[key] = per_format.get(key, 0) + 1
    per_version: dict[str, int] = {}
    trial_graphs = {g for _, g in graphs}
    for q in ts.store.quads_for_pattern(None, T.toolVersion, None, None):
        # a graph's own statement (its subject is its name): the version is a literal
        if q.subject == q.graph_name and cast(ox.NamedNode, q.subject).value in trial_graphs:
            version = cast(ox.Literal, q.object).value
            per_version[version] = per_version.get(version, 0) + 1
    vocab_graphs = [g for g in ts.named_graphs() if g.startswith(T.VOCAB_GRAPH_PREFIX)]
    conditions = _count(ts, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?t <{T.condition.value}> ?c }}")
    linked = _count(
        ts,
        f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?t <{T.condition.value}> ?c . ?c <{T.linkedConcept.value}> ?x }}",
    )
    interventions = _count(ts, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?t <{T.intervention.value}> ?i }}")
    iv_linked = _count(
        ts,
        f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?t <{T.intervention.value}> ?i ."
        f" ?i <{T.linkedConcept.value}> ?x }}",
    )
    keyword_links = keyword_trials = 0
    for sol in _select(
        ts, f"SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?t) AS ?trials) WHERE {{ ?t <{T.keywordLink.value}> ?l }}"
    ):
        keyword_links, keyword_trials = int(sol[0].value), int(sol[1].value)
    doses = _count(ts, f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d a <{T.Dose.value}> }}")
    per_kg = _count(
        ts,
        f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d <{T.doseBasis.value}> "
        f"<{T.enum_iri(DoseBasis.BODY_WEIGHT).value}> }}",
    )
    cell_dosed = _count(ts, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i <{T.cellDose.value}> ?d }}")
    return {
        "trials": len(trials),
        "trial graphs": len(graphs),
        "trials with several sources": sum(1 for n in sources_per_trial.values() if n > 1),
        "incomplete trial graphs (an interrupted ingest: run it again)": len(ts.incomplete_graphs()),
        "quads": len(ts),
        "graphs per source format": dict(sorted(per_format.items())),
        "trial graphs per trialkg version": dict(sorted(per_version.items())),
        "vocabulary graphs": len(vocab_graphs),
        "conditions": conditions,
        "conditions linked": linked,
        "conditions unlinked": conditions - linked,
        "interventions": interventions,
        "interventions linked": iv_linked,
        "interventions unlinked": interventions - iv_linked,
        "keyword links": keyword_links,
        "trials with keyword links": keyword_trials,
        "doses stated": doses,
        "doses per kg of body weight": per_kg,
        "cell therapies with a cell dose": cell_dosed,
    }
