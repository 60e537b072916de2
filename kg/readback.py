"""Read a trial's facts back from the graph (not from any source file).

Each source of a trial is its own named graph. :func:`show` reads every graph of
a trial into a plain record and merges them: a field on which the sources agree
(or that only one source states) is given once; a field on which they disagree
takes the value of the source whose record was updated last (sources with no
update date rank last, ties broken by file name), and every source's value is
listed under ``disagreements``. :func:`conflicts` lists just the disagreements.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, cast

from pyoxigraph import Literal, NamedNode

from kg import terms as T
from kg.errors import TrialKGError
from kg.store import TrialStore

Node = dict[str, list[Any]]


class TrialNotFound(TrialKGError):
    pass


def _index(store: TrialStore, graph: str) -> dict[str, Node]:
    subjects: dict[str, Node] = defaultdict(lambda: defaultdict(list))
    for q in store.graph_quads(graph):
        # kg.mapping writes no blank nodes and no quoted triples: every subject is an IRI
        subjects[cast(NamedNode, q.subject).value][q.predicate.value].append(q.object)
    return subjects


def _val(term: Any) -> Any:
    if isinstance(term, Literal):
        dt = term.datatype.value
        if dt == T.XSD_INTEGER.value:
            return int(term.value)
        if dt == T.XSD_BOOLEAN.value:
            return term.value == "true"
        return term.value
    if isinstance(term, NamedNode):
        ev = T.enum_value(term.value)
        return ev[1] if ev else term.value
    return term.value


def _number(value: str | None) -> int | float | None:
    """An xsd:decimal's text as a JSON number: whole numbers as integers."""
    if value is None:
        return None
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


class _Reader:
    def __init__(self, idx: dict[str, Node]) -> None:
        self.idx = idx

    def all(self, s: str, p: NamedNode) -> list[Any]:
        return [_val(o) for o in self.idx.get(s, {}).get(p.value, [])]

    def one(self, s: str, p: NamedNode) -> Any:
        vals = self.all(s, p)
        return sorted(vals, key=str)[0] if vals else None

    def iris(self, s: str, p: NamedNode) -> list[str]:
        """Object IRIs of ``p``, unordered."""
        return [o.value for o in self.idx.get(s, {}).get(p.value, []) if isinstance(o, NamedNode)]

    def nodes(self, s: str, p: NamedNode) -> list[str]:
        """Object IRIs of ``p``, ordered by their ``tkg:position`` (then IRI)."""
        objs = self.iris(s, p)
        return sorted(set(objs), key=lambda n: (self.one(n, T.position) or 0, n))


def _record(store: TrialStore, graph: str) -> dict[str, Any]:
    r = _Reader(_index(store, graph))
    t = r.one(graph, T.describesTrial)

    def links(node: str, prop: NamedNode = T.hasLink) -> list[dict[str, Any]]:
        out = []
        for ln in r.nodes(node, prop):
            out.append(
                {
                    "iri": r.one(ln, T.linkTarget),
                    "method": r.one(ln, T.linkMethod),
                    "vocabulary": r.one(ln, T.vocabulary),
                    "matched": r.one(ln, T.matchedTerm),
                }
            )
        return out

    def doses(node: str) -> list[dict[str, Any]]:
        # in order of first mention (tkg:position)
        return [
            {
                "value": _number(r.one(d, T.doseValue)),
                "max_value": _number(r.one(d, T.doseMaxValue)),
                "unit": r.one(d, T.doseUnit),
                "basis": r.one(d, T.doseBasis),
                "qualifier": r.one(d, T.doseQualifier),
                "substance": r.one(d, T.doseSubstance),
                "text": r.one(d, T.doseText),
            }
            for d in r.nodes(node, T.dose)
        ]

    iv_names = {n: r.one(n, T.name) for n in r.nodes(t, T.intervention)}
    interventions = []
    for n in r.nodes(t, T.intervention):
        item: dict[str, Any] = {
            "type": r.one(n, T.interventionType),
            "name": r.one(n, T.name),
            "description": r.one(n, T.description),
            "other_names": sorted(r.all(n, T.otherName)),
            "links": sorted(r.all(n, T.linkedConcept)),
            "link_details": links(n),
            "doses": doses(n),
        }
        cts = r.nodes(n, T.cellTherapy)
        if cts:
            c = cts[0]
            item["cell_therapy"] = {
                "cell_types": sorted(r.all(c, T.cellType)),
                "source_tissues": sorted(r.all(c, T.cellSource)),
                "origin": r.one(c, T.cellOrigin),
            }
            # a cell therapy's cell types and source tissues are links too
            item["links"] = sorted(
                set(item["links"])
                | set(item["cell_therapy"]["cell_types"])
                | set(item["cell_therapy"]["source_tissues"])
            )
        interventions.append(item)
    eligibility = None
    for e in r.nodes(t, T.eligibility):
        eligibility = {
            "sex": r.one(e, T.sex),
            "min_age": r.one(e, T.minimumAgeText),
            "max_age": r.one(e, T.maximumAgeText),
            "healthy_volunteers": r.one(e, T.healthyVolunteers),
            "inclusion": [r.one(c, T.text) for c in r.nodes(e, T.inclusionCriterion)],
            "exclusion": [r.one(c, T.text) for c in r.nodes(e, T.exclusionCriterion)],
            "criteria": r.one(e, T.criteriaText),
        }
    sponsor = None
    for o in r.nodes(t, T.leadSponsor):
        sponsor = {"name": r.one(o, T.name), "class": r.one(o, T.agencyClass)}
    return {
        "nct_id": r.one(t, T.nctId),
        "org_study_id": r.one(t, T.orgStudyId),
        "secondary_ids": [r.one(n, T.identifierValue) for n in r.nodes(t, T.secondaryIdentifier)],
        "acronym": r.one(t, T.acronym),
        "brief_title": r.one(t, T.briefTitle),
        "official_title": r.one(t, T.officialTitle),
        "status": r.one(t, T.overallStatus),
        "last_known_status": r.one(t, T.lastKnownStatus),
        "why_stopped": r.one(t, T.whyStopped),
        "phases": sorted(r.all(t, T.phase), key=_phase_order),
        "study_type": r.one(t, T.studyType),
        "enrollment": {"count": r.one(t, T.enrollmentCount), "type": r.one(t, T.enrollmentType)},
        "start_date": r.one(t, T.startDate),
        "start_date_type": r.one(t, T.startDateType),
        "primary_completion_date": r.one(t, T.primaryCompletionDate),
        "completion_date": r.one(t, T.completionDate),
        "completion_date_type": r.one(t, T.completionDateType),
        "brief_summary": r.one(t, T.briefSummary),
        "detailed_description": r.one(t, T.detailedDescription),
        "conditions": [
            {
                "name": r.one(c, T.name),
                "links": sorted(r.all(c, T.linkedConcept)),
                "link_details": links(c),
                **({"verbatim": r.one(c, T.verbatim)} if r.one(c, T.verbatim) is not None else {}),
                **({"split_uncertain": r.one(c, T.splitUncertain)} if r.one(c, T.splitUncertain) else {}),
                **({"is_cell_type": True} if r.one(c, T.isCellType) else {}),
            }
            for c in sorted(r.nodes(t, T.condition), key=lambda c: str(r.one(c, T.name)).casefold())
        ],
        "keywords": sorted(r.all(t, T.keyword)),
        # links made from keywords, apart from the conditions' links
        "keyword_links": links(t, T.keywordLink),
        "interventions": interventions,
        "arms": [
            {
                "label": r.one(a, T.name),
                "type": r.one(a, T.armType),
                "description": r.one(a, T.description),
                "interventions": sorted(iv_names.get(i) or i for i in r.nodes(a, T.armIntervention)),
                "doses": doses(a),
            }
            for a in r.nodes(t, T.arm)
        ],
        "sponsor": sponsor,
        "collaborators": [
            {"name": r.one(o, T.name), "class": r.one(o, T.agencyClass)} for o in r.nodes(t, T.collaborator)
        ],
        "allocation": r.one(t, T.allocation),
        "intervention_model": r.one(t, T.interventionModel),
        "primary_purpose": r.one(t, T.primaryPurpose),
        "masking": r.one(t, T.masking),
        "who_masked": sorted(r.all(t, T.whoMasked)),
        "eligibility": eligibility,
        "primary_outcomes": [
            {"measure": r.one(o, T.measure), "time_frame": r.one(o, T.timeFrame)} for o in r.nodes(t, T.primaryOutcome)
        ],
        "secondary_outcomes": [
            {"measure": r.one(o, T.measure), "time_frame": r.one(o, T.timeFrame)}
            for o in r.nodes(t, T.secondaryOutcome)
        ],
        "locations": [
            {
                "facility": r.one(loc, T.facility),
                "city": r.one(loc, T.city),
                "country": r.one(loc, T.country),
                "status": r.one(loc, T.locationStatus),
            }
            for loc in r.nodes(t, T.location)
        ],
        "officials": [
            {"name": r.one(o, T.name), "role": r.one(o, T.officialRole), "affiliation": r.one(o, T.affiliation)}
            for o in r.nodes(t, T.official)
        ],
        "references": sorted(p for ref in r.nodes(t, T.reference) if (p := r.one(ref, T.pmid))),
        "condition_mesh": sorted(T.curie(m) for m in r.all(t, T.conditionMesh)),
        "intervention_mesh": sorted(T.curie(m) for m in r.all(t, T.interventionMesh)),
        "has_results": r.one(t, T.hasResults),
        "_source": {
            "format": r.one(graph, T.sourceFormat),
            "file": r.one(graph, T.sourceFile),
            "last_update": r.one(graph, T.recordLastUpdate),
            "checksum": r.one(graph, T.checksum),
            "partial": r.one(graph, T.partial),
            "notes": sorted(r.all(graph, T.parseNote), key=str),
            "ingested": r.one(graph, T.PROV_GENERATED_AT_TIME),
            "graph": graph,
        },
    }


_PHASES = ["NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]


def _phase_order(p: str) -> int:
    return _PHASES.index(p) if p in _PHASES else len(_PHASES)


#: Fields compared across sources, with the comparison key for each. A source
#: that does not state a field (None / empty) does not disagree with the others.
COMPARED: dict[str, Any] = {
    "brief_title": lambda v: " ".join(v.casefold().split()) if v else None,
    "official_title": lambda v: " ".join(v.casefold().split()) if v else None,
    "acronym": lambda v: v.casefold() if v else None,
    "status": lambda v: v,
    "last_known_status": lambda v: v,
    "phases": lambda v: tuple(v) or None,
    "study_type": lambda v: v,
    "enrollment.count": lambda v: v,
    "enrollment.type": lambda v: v,
    "start_date": lambda v: v,
    "primary_completion_date": lambda v: v,
    "completion_date": lambda v: v,
    "sponsor.name": lambda v: " ".join(v.casefold().split()) if v else None,
    "allocation": lambda v: v,
    "intervention_model": lambda v: v,
    "primary_purpose": lambda v: v,
    "masking": lambda v: v,
    "eligibility.sex": lambda v: v,
    "eligibility.min_age": lambda v: v,
    "eligibility.max_age": lambda v: v,
    "eligibility.healthy_volunteers": lambda v: v,
    "conditions": lambda v: frozenset(c["name"].casefold() for c in v) or None,
    "interventions": lambda v: frozenset(i["name"].casefold() for i in v) or None,
    "arms": lambda v: frozenset(a["label"].casefold() for a in v) or None,
    "org_study_id": lambda v: v,
}


def _get(rec: dict[str, Any], path: str) -> Any:
    cur: Any = rec
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _display(field: str, value: Any) -> Any:
    if field == "conditions":
        return [c["name"] for c in value]
    if field == "interventions":
        return [i["name"] for i in value]
    if field == "arms":
        return [a["label"] for a in value]
    return value


def _rank(rec: dict[str, Any]) -> tuple[str, str]:
    src = rec["_source"]
    return (str(src["last_update"] or ""), str(src["file"] or ""))


def records(store: TrialStore, nct_id: str) -> list[dict[str, Any]]:
    graphs = [g for _, g in store.trial_graphs([nct_id])]
    if not graphs:
        if store.trial_graphs([nct_id], incomplete=True):
            raise TrialNotFound(
                f"{nct_id}: its graph was left incomplete by an interrupted ingest; run the ingest again"
            )
        raise TrialNotFound(f"{nct_id} is not in the store")
    recs = [_record(store, g) for g in graphs]
    recs.sort(key=_rank, reverse=True)  # newest first
    return recs


def _disagreements(recs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for field, key in COMPARED.items():
        stated = [(r, _get(r, field)) for r in recs]
        stated = [(r, v) for r, v in stated if key(v) is not None]
        if len({key(v) for _, v in stated}) > 1:
            out[field] = [
                {
                    "format": r["_source"]["format"],
                    "file": r["_source"]["file"],
                    "last_update": r["_source"]["last_update"],
                    "value": _display(field, v),
                }
                for r, v in stated
            ]
    return out


def show(store: TrialStore, nct_id: str) -> dict[str, Any]:
    """The trial's facts merged across its sources (see the module doc)."""
    recs = records(store, nct_id)
    merged = {k: v for k, v in recs[0].items() if k != "_source"}
    # fill what the newest source does not state from the others, newest first
    for rec in recs[1:]:
        for k, v in rec.items():
            if k == "_source":
                continue
            if merged.get(k) in (None, [], {}) and v not in (None, [], {}):
                merged[k] = v
            elif isinstance(v, dict) and isinstance(merged.get(k), dict):
                for kk, vv in v.items():
                    if merged[k].get(kk) in (None, []) and vv not in (None, []):
                        merged[k][kk] = vv
    merged["sources"] = [r["_source"] for r in recs]
    merged["disagreements"] = _disagreements(recs)
    return merged


def conflicts(store: TrialStore, nct_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every field on which sources of the same trial disagree."""
    by_trial: dict[str, int] = defaultdict(int)
    for nct, _ in store.trial_graphs(nct_ids):
        by_trial[nct] += 1
    out = []
    for nct in sorted(by_trial):
        if by_trial[nct] < 2:
            continue
        for field, values in _disagreements(records(store, nct)).items():
            out.append({"nct_id": nct, "field": field, "sources": values})
    return out
