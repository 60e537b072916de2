"""The one RDF mapping: a :class:`~kg.model.Trial` in, pyoxigraph quads out.

Everything a trial source says goes into one named graph per trial and source
file (:func:`kg.terms.graph_iri`); the graph node itself carries the provenance
(format, file, checksum, the record's last update, tool version, ingest time).
IRIs are minted from the NCT ID and normalised names or texts (never from a
position in a list, see :func:`_keyed`), so the same input always gives the same
quads (the ingest time aside, which callers may pin).
Phone numbers and e-mail addresses are written only with ``include_contacts``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from pyoxigraph import Literal, NamedNode, Quad

from kg import __version__
from kg import terms as T
from kg.dosing import Dose, find_doses
from kg.enums import InterventionType, UnknownValue, coerce
from kg.model import Age, Contact, DoseSubstance, Link, Location, Outcome, Trial, TrialDate

_Item = TypeVar("_Item")


@dataclass(frozen=True, slots=True)
class MappingOptions:
    include_contacts: bool = False  # phone and e-mail of contacts (personal data)
    ingest_time: str | None = None  # xsd:dateTime lexical form; None leaves it out
    tool_version: str = __version__
    #: the vocabularies that linked the trial: the linker's fingerprint, "none" when not
    #: linked; None leaves the ingest settings out of the graph
    links: str | None = None

    @property
    def settings(self) -> str | None:
        """What shapes a graph besides its source and the tool version (tkg:ingestSettings):
        a re-ingest with other settings rebuilds the graph, it is not "unchanged"."""
        if self.links is None:
            return None
        return f"contacts={'yes' if self.include_contacts else 'no'}; links={self.links}"


_ENUM_NODES: dict[tuple[type, str], NamedNode] = {}


def _enum(member: StrEnum) -> NamedNode:
    # Keyed on the enumeration class too: StrEnum members of different
    # enumerations with the same value ("ESTIMATED", "OTHER") compare equal.
    key = (type(member), member.value)
    node = _ENUM_NODES.get(key)
    if node is None:
        node = _ENUM_NODES[key] = T.enum_iri(member)
    return node


def _date(d: TrialDate) -> Literal:
    n = len(d.iso)
    dt = T.XSD_DATE if n == 10 else T.XSD_GYEARMONTH if n == 7 else T.XSD_GYEAR
    return Literal(d.iso, datatype=dt)


def _int(v: int) -> Literal:
    return Literal(str(v), datatype=T.XSD_INTEGER)


_TRUE = Literal("true", datatype=T.XSD_BOOLEAN)
_FALSE = Literal("false", datatype=T.XSD_BOOLEAN)


def _bool(v: bool) -> Literal:
    return _TRUE if v else _FALSE


def _unique_slugs(names: Iterable[str]) -> list[str]:
    """Slugs for a list of names, made unique within the list by a numeric suffix."""
    return _numbered(T.slug(n) for n in names)


def _numbered(segments: Iterable[str]) -> list[str]:
    """IRI segments made unique within a list: the second "x" is "x-2", the third "x-3",
    skipping a number another item's own segment holds ("group-2", "group", "group"
    give "group-2", "group", "group-3")."""
    segs = list(segments)
    taken = set(segs)
    firsts: set[str] = set()
    last_suffix: dict[str, int] = {}
    out: list[str] = []
    for s in segs:
        if s not in firsts:
            firsts.add(s)
            out.append(s)
            continue
        k = last_suffix.get(s, 1) + 1
        while f"{s}-{k}" in taken:
            k += 1
        last_suffix[s] = k
        taken.add(f"{s}-{k}")
        out.append(f"{s}-{k}")
    return out


def _keyed(items: Sequence[_Item], key: Callable[[_Item], str], *, slugged: bool = True) -> list[tuple[_Item, str]]:
    """Each item with its IRI segment, made from its identifying text and numbered when
    the list repeats it: the text's slug, or (``slugged=False``, for the long texts of
    criteria, outcomes and sites, where a slug would lengthen every quad of the node
    for no reader) a hash of the text in lower case with its spaces collapsed.

    Items of a list are named by what they say, not by their place in it, so that two
    sources of one trial never give one node two different things (arm 1 of an old
    record and arm 1 of a new one may be different arms); the same arm, outcome or
    site from two sources is one node."""
    if slugged:
        segments = [T.slug(key(x)) for x in items]
    else:
        segments = [hashlib.sha1(" ".join(key(x).lower().split()).encode()).hexdigest()[:10] for x in items]
    return list(zip(items, _numbered(segments), strict=True))


def _location_key(loc: Location) -> str:
    return " ".join(x for x in (loc.facility, loc.city, loc.state, loc.country) if x) or "location"


def _dose_segment(d: Dose) -> str:
    """``2000000-cells-per-kg``, ``0.5-1-mg-per-m2``, ``at-most-500-mg``: qualifier (if
    any), value, maximum and unit."""
    numbers = "-".join(format(x.normalize(), "f") for x in (d.value, d.max_value) if x is not None)
    lead = f"{T.slug(d.qualifier.value.replace('_', ' '))}-" if d.qualifier else ""
    return f"{lead}{numbers}-{T.slug(d.unit.replace('µ', 'u').replace('/', ' per '))}"


def graph_for(trial: Trial) -> NamedNode:
    return T.graph_iri(trial.nct_id, trial.source.format.value, trial.source.file)


def trial_quads(trial: Trial, options: MappingOptions = MappingOptions()) -> list[Quad]:
    g = graph_for(trial)
    out: list[Quad] = []
    add = out.append
    t = T.trial_iri(trial.nct_id)
    base = t.value

    def lit(s: NamedNode, p: NamedNode, v: str | None) -> None:
        if v is not None:
            add(Quad(s, p, Literal(v), g))

    def obj(s: NamedNode, p: NamedNode, o: NamedNode | None) -> None:
        if o is not None:
            add(Quad(s, p, o, g))

    def enum(s: NamedNode, p: NamedNode, v: StrEnum | None) -> None:
        if v is not None:
            add(Quad(s, p, _enum(v), g))

    def boolean(s: NamedNode, p: NamedNode, v: bool | None) -> None:
        if v is not None:
            add(Quad(s, p, _bool(v), g))

    def date(p: NamedNode, ptype: NamedNode | None, d: TrialDate | None) -> None:
        if d is None:
            return
        add(Quad(t, p, _date(d), g))
        if ptype is not None and d.type is not None:
            add(Quad(t, ptype, _enum(d.type), g))

    # -- provenance of this named graph
    src = trial.source
    add(Quad(g, T.RDF_TYPE, T.SourceRecord, g))
    add(Quad(g, T.RDF_TYPE, T.PROV_ENTITY, g))
    add(Quad(g, T.describesTrial, t, g))
    add(Quad(g, T.sourceFormat, _enum(src.format), g))
    add(Quad(g, T.sourceFile, Literal(src.file), g))
    add(Quad(g, T.checksum, Literal("sha256:" + src.checksum), g))
    if src.last_update is not None:
        add(Quad(g, T.recordLastUpdate, _date(src.last_update), g))
    add(Quad(g, T.partial, _bool(src.partial), g))
    add(Quad(g, T.toolVersion, Literal(options.tool_version), g))
    if options.settings is not None:
        add(Quad(g, T.ingestSettings, Literal(options.settings), g))
    if options.ingest_time is not None:
        add(Quad(g, T.PROV_GENERATED_AT_TIME, Literal(options.ingest_time, datatype=T.XSD_DATETIME), g))
    for note in src.notes:
        add(Quad(g, T.parseNote, Literal(note), g))

    # -- identification
    add(Quad(t, T.RDF_TYPE, T.ClinicalTrial, g))
    add(Quad(t, T.RDF_TYPE, T.SCHEMA_MEDICAL_TRIAL, g))
    add(Quad(t, T.nctId, Literal(trial.nct_id), g))
    add(Quad(t, T.RDFS_SEE_ALSO, T.ctgov_iri(trial.nct_id), g))
    lit(t, T.orgStudyId, trial.org_study_id)
    for i, (sid, s) in enumerate(_keyed(trial.secondary_ids, lambda x: x.id), start=1):
        n = NamedNode(f"{base}/secondary-id/{s}")
        add(Quad(t, T.secondaryIdentifier, n, g))
        add(Quad(n, T.RDF_TYPE, T.SecondaryIdentifier, g))
        add(Quad(n, T.position, _int(i), g))
        add(Quad(n, T.identifierValue, Literal(sid.id), g))
        lit(n, T.identifierType, sid.type)
        lit(n, T.identifierDomain, sid.domain)
    for alias in trial.nct_id_aliases:
        add(Quad(t, T.nctIdAlias, Literal(alias), g))
    lit(t, T.acronym, trial.acronym)
    lit(t, T.briefTitle, trial.brief_title)
    if trial.brief_title is not None:
        add(Quad(t, T.RDFS_LABEL, Literal(trial.brief_title), g))
    lit(t, T.officialTitle, trial.official_title)

    # -- status and dates
    enum(t, T.overallStatus, trial.overall_status)
    enum(t, T.lastKnownStatus, trial.last_known_status)
    lit(t, T.whyStopped, trial.why_stopped)
    date(T.statusVerifiedDate, None, trial.status_verified)
    date(T.startDate, T.startDateType, trial.start_date)
    date(T.primaryCompletionDate, T.primaryCompletionDateType, trial.primary_completion_date)
    date(T.completionDate, T.completionDateType, trial.completion_date)
    date(T.firstPostedDate, None, trial.first_posted)
    date(T.lastUpdatePostedDate, None, trial.last_update_posted)
    date(T.resultsFirstPostedDate, None, trial.results_first_posted)

    # -- sponsor, collaborators, oversight
    for prop, orgs in (
        (T.leadSponsor, [trial.sponsor] if trial.sponsor else []),
        (T.collaborator, trial.collaborators),
    ):
        for org in orgs:
            o = T.organization_iri(trial.nct_id, org.name)
            add(Quad(t, prop, o, g))
            add(Quad(o, T.RDF_TYPE, T.Organization, g))
            add(Quad(o, T.name, Literal(org.name), g))
            enum(o, T.agencyClass, org.agency_class)
    if (rp := trial.responsible_party) is not None:
        n = NamedNode(f"{base}/responsible-party")
        add(Quad(t, T.responsibleParty, n, g))
        add(Quad(n, T.RDF_TYPE, T.ResponsibleParty, g))
        enum(n, T.responsiblePartyType, rp.type)
        lit(n, T.name, rp.investigator_name)
        lit(n, T.investigatorTitle, rp.investigator_title)
        lit(n, T.affiliation, rp.investigator_affiliation)
    boolean(t, T.hasDataMonitoringCommittee, trial.has_dmc)
    boolean(t, T.isFdaRegulatedDrug, trial.fda_regulated_drug)
    boolean(t, T.isFdaRegulatedDevice, trial.fda_regulated_device)

    # -- description, conditions, keywords
    lit(t, T.briefSummary, trial.brief_summary)
    lit(t, T.detailedDescription, trial.detailed_description)
    cond_keys = [T.lookup_key(cond.name) for cond in trial.conditions]
    for cond, s, key in zip(trial.conditions, _unique_slugs(c.name for c in trial.conditions), cond_keys, strict=True):
        c = NamedNode(f"{base}/condition/{s}")
        add(Quad(t, T.condition, c, g))
        add(Quad(c, T.RDF_TYPE, T.Condition, g))
        add(Quad(c, T.name, Literal(cond.name), g))
        add(Quad(c, T.RDFS_LABEL, Literal(cond.name), g))
        add(Quad(c, T.nameKey, Literal(key), g))
        if cond.verbatim is not None:
            add(Quad(c, T.verbatim, Literal(cond.verbatim), g))
            add(Quad(c, T.splitUncertain, _bool(cond.split_uncertain), g))
        if cond.is_cell_type:
            add(Quad(c, T.isCellType, _TRUE, g))
        _links(add, c, cond.links, g)
    # shortcuts on the trial for whole-store grouping by name (see the ontology)
    for key in dict.fromkeys(cond_keys):
        add(Quad(t, T.conditionNameKey, Literal(key), g))
    for kw in trial.keywords:
        add(Quad(t, T.keyword, Literal(kw), g))
    for link in trial.keyword_links:  # the linker's keyword links (no tkg:linkedConcept on the trial)
        ln = NamedNode(f"{t.value}/keyword-link/{link.method.value.lower()}/{T.slug(T.curie(link.iri))}")
        add(Quad(t, T.keywordLink, ln, g))
        _link_node(add, ln, link, g)

    # -- design
    enum(t, T.studyType, trial.study_type)
    for ph in trial.phases:
        add(Quad(t, T.phase, _enum(ph), g))
    enum(t, T.allocation, trial.allocation)
    enum(t, T.interventionModel, trial.intervention_model)
    enum(t, T.primaryPurpose, trial.primary_purpose)
    enum(t, T.masking, trial.masking)
    for wm in trial.who_masked:
        add(Quad(t, T.whoMasked, _enum(wm), g))
    enum(t, T.observationalModel, trial.observational_model)
    enum(t, T.timePerspective, trial.time_perspective)
    if trial.enrollment_count is not None:
        add(Quad(t, T.enrollmentCount, _int(trial.enrollment_count), g))
    enum(t, T.enrollmentType, trial.enrollment_type)

    # -- interventions (by normalised name) and arms (by normalised label)
    # an arm names an intervention as "Drug: Aspirin" (or just "Aspirin"): resolved by type
    # and name first, then by name; two interventions with the same name and type cannot
    # be told apart, and the arm is linked to the first of them
    iv_nodes: dict[str, NamedNode] = {}
    iv_typed: dict[tuple[str, str], NamedNode] = {}
    cell_nodes: set[NamedNode] = set()  # the cell therapies: in their arms "2 x 10^6/kg" counts cells
    # arm label -> the interventions that name the arm (the registry states the link from
    # both sides: the arm names its interventions, an intervention its arms)
    naming_arm: dict[str, list[NamedNode]] = {}
    iv_keys = [T.lookup_key(iv.name) for iv in trial.interventions]
    for key in dict.fromkeys(iv_keys):
        add(Quad(t, T.interventionNameKey, Literal(key), g))
    iv_list = [NamedNode(f"{base}/intervention/{s}") for s in _unique_slugs(i.name for i in trial.interventions)]
    # interventions linked to a concept or typed as cell therapies: a dose naming a
    # substance that is not theirs is not theirs either (see _dose_of)
    known: set[NamedNode] = set()
    for i, (iv, n, name_key) in enumerate(zip(trial.interventions, iv_list, iv_keys, strict=True), start=1):
        iv_nodes.setdefault(iv.name.casefold(), n)
        if iv.type is not None:
            iv_typed.setdefault((iv.type.value, iv.name.casefold()), n)
        add(Quad(t, T.intervention, n, g))
        add(Quad(n, T.RDF_TYPE, T.Intervention, g))
        add(Quad(n, T.position, _int(i), g))
        add(Quad(n, T.name, Literal(iv.name), g))
        add(Quad(n, T.RDFS_LABEL, Literal(iv.name), g))
        enum(n, T.interventionType, iv.type)
        lit(n, T.description, iv.description)
        for other in iv.other_names:
            add(Quad(n, T.otherName, Literal(other), g))
        for key in dict.fromkeys((name_key, *(T.lookup_key(x) for x in iv.other_names))):
            add(Quad(n, T.nameKey, Literal(key), g))
        _links(add, n, iv.links, g)
        if (ct := iv.cell_therapy) is not None:
            cn = NamedNode(f"{n.value}/cell-therapy")
            add(Quad(n, T.cellTherapy, cn, g))
            add(Quad(cn, T.RDF_TYPE, T.CellTherapy, g))
            for link in ct.cell_types:
                add(Quad(cn, T.cellType, NamedNode(link.iri), g))
            for link in ct.source_tissues:
                add(Quad(cn, T.cellSource, NamedNode(link.iri), g))
            enum(cn, T.cellOrigin, ct.origin)
            lit(cn, T.evidenceText, ct.evidence)
        for label in iv.arm_labels:
            naming_arm.setdefault(label.casefold(), []).append(n)
        if iv.links or iv.cell_therapy is not None:
            known.add(n)
        own = _doses(
            add,
            n,
            (iv.name, *iv.other_names, iv.description),
            g,
            cells=iv.cell_therapy is not None,
            substances=trial.dose_substances,
        )
        for dn, sub, _ in own:
            for target in _dose_of(sub, [n], iv_list, known):
                add(Quad(dn, T.doseOf, target, g))
        if iv.cell_therapy is not None:
            cell_nodes.add(n)
            for dn, _, is_cells in own:
                if is_cells:
                    add(Quad(n, T.cellDose, dn, g))
    for i, (a, s) in enumerate(_keyed(trial.arms, lambda x: x.label), start=1):
        n = NamedNode(f"{base}/arm/{s}")
        add(Quad(t, T.arm, n, g))
        add(Quad(n, T.RDF_TYPE, T.Arm, g))
        add(Quad(n, T.position, _int(i), g))
        add(Quad(n, T.name, Literal(a.label), g))
        add(Quad(n, T.RDFS_LABEL, Literal(a.label), g))
        enum(n, T.armType, a.type)
        lit(n, T.description, a.description)
        resolved = (_arm_target(name, iv_typed, iv_nodes) for name in a.intervention_names)
        named = [x for x in resolved if x is not None] + naming_arm.get(a.label.casefold(), [])
        targets = list(dict.fromkeys(named))
        for target in targets:
            add(Quad(n, T.armIntervention, target, g))
        # a cell count stated by an arm is a dose of each cell therapy the arm gives
        given = [x for x in targets if x in cell_nodes]
        arm_doses = _doses(add, n, (a.label, a.description), g, cells=bool(given), substances=trial.dose_substances)
        for dn, sub, _ in arm_doses:
            for target in _dose_of(sub, targets, iv_list, known):
                add(Quad(dn, T.doseOf, target, g))
        for target in given:
            for dn, _, is_cells in arm_doses:
                if is_cells:
                    add(Quad(target, T.cellDose, dn, g))

    # -- outcomes
    for prop, kind, items in (
        (T.primaryOutcome, "primary", trial.primary_outcomes),
        (T.secondaryOutcome, "secondary", trial.secondary_outcomes),
        (T.otherOutcome, "other", trial.other_outcomes),
    ):
        _outcomes(add, t, prop, f"{base}/outcome/{kind}", items, g=g)

    # -- eligibility
    if (el := trial.eligibility) is not None:
        e = NamedNode(f"{base}/eligibility")
        add(Quad(t, T.eligibility, e, g))
        add(Quad(e, T.RDF_TYPE, T.Eligibility, g))
        lit(e, T.criteriaText, el.criteria)
        for prop, kind, criteria in (
            (T.inclusionCriterion, "inclusion", el.inclusion),
            (T.exclusionCriterion, "exclusion", el.exclusion),
        ):
            for i, (item, s) in enumerate(_keyed(criteria, str, slugged=False), start=1):
                cn = NamedNode(f"{e.value}/{kind}/{s}")
                add(Quad(e, prop, cn, g))
                add(Quad(cn, T.RDF_TYPE, T.Criterion, g))
                add(Quad(cn, T.position, _int(i), g))
                add(Quad(cn, T.text, Literal(item), g))
        enum(e, T.sex, el.sex)
        boolean(e, T.genderBased, el.gender_based)
        _age(add, e, T.minimumAge, T.minimumAgeText, el.min_age, g=g)
        _age(add, e, T.maximumAge, T.maximumAgeText, el.max_age, g=g)
        boolean(e, T.healthyVolunteers, el.healthy_volunteers)
        for sa in el.std_ages:
            add(Quad(e, T.stdAge, Literal(sa), g))

    # -- locations, officials, contacts
    for i, (loc, s) in enumerate(_keyed(trial.locations, _location_key, slugged=False), start=1):
        n = NamedNode(f"{base}/location/{s}")
        add(Quad(t, T.location, n, g))
        add(Quad(n, T.RDF_TYPE, T.Location, g))
        add(Quad(n, T.position, _int(i), g))
        lit(n, T.facility, loc.facility)
        lit(n, T.city, loc.city)
        lit(n, T.state, loc.state)
        lit(n, T.postalCode, loc.zip)
        lit(n, T.country, loc.country)
        enum(n, T.locationStatus, loc.status)
        _contacts(add, n, loc.contacts, options, g)
    for i, (off, s) in enumerate(_keyed(trial.officials, lambda x: x.name), start=1):
        n = NamedNode(f"{base}/official/{s}")
        add(Quad(t, T.official, n, g))
        add(Quad(n, T.RDF_TYPE, T.Official, g))
        add(Quad(n, T.position, _int(i), g))
        add(Quad(n, T.name, Literal(off.name), g))
        enum(n, T.officialRole, off.role)
        lit(n, T.affiliation, off.affiliation)
    _contacts(add, t, trial.contacts, options, g)

    # -- references
    for ref, s in _keyed(trial.references, lambda x: x.pmid or x.citation or "reference"):
        n = NamedNode(f"{base}/reference/{s}")
        add(Quad(t, T.reference, n, g))
        add(Quad(n, T.RDF_TYPE, T.Reference, g))
        if ref.pmid is not None:
            add(Quad(n, T.pmid, Literal(ref.pmid), g))
            if ref.pmid.isdigit():
                add(Quad(n, T.RDFS_SEE_ALSO, T.pubmed_iri(ref.pmid), g))
        enum(n, T.referenceType, ref.type)
        lit(n, T.citation, ref.citation)

    # -- registry-derived MeSH indexing
    for prop, terms in (
        (T.conditionMesh, trial.condition_mesh),
        (T.conditionMeshAncestor, trial.condition_mesh_ancestors),
        (T.interventionMesh, trial.intervention_mesh),
        (T.interventionMeshAncestor, trial.intervention_mesh_ancestors),
    ):
        for m in terms:
            add(Quad(t, prop, T.mesh_iri(m.id), g))
    for prop, names in (
        (T.conditionMeshHeading, trial.condition_mesh_names),
        (T.interventionMeshHeading, trial.intervention_mesh_names),
    ):
        for heading in names:
            add(Quad(t, prop, Literal(heading), g))
    boolean(t, T.hasResults, trial.has_results)
    return out


def _contacts(add, owner: NamedNode, contacts: list[Contact], options: MappingOptions, g: NamedNode) -> None:  # type: ignore[no-untyped-def]
    """Central contacts (owner: the trial) or site contacts (owner: a location).
    Names and roles always; phone and e-mail only when the user opted in."""
    shown = [c for c in contacts if c.name is not None or options.include_contacts]
    # a contact with no name (phone or e-mail only) is "contact": never its details in an IRI
    for c, s in _keyed(shown, lambda x: x.name or "contact"):
        n = NamedNode(f"{owner.value}/contact/{s}")
        add(Quad(owner, T.contact, n, g))
        add(Quad(n, T.RDF_TYPE, T.Contact, g))
        if c.name is not None:
            add(Quad(n, T.name, Literal(c.name), g))
        if c.role is not None:
            add(Quad(n, T.contactRole, _enum(c.role), g))
        if options.include_contacts:
            if c.phone is not None:
                add(Quad(n, T.SCHEMA_TELEPHONE, Literal(c.phone), g))
            if c.email is not None:
                add(Quad(n, T.SCHEMA_EMAIL, Literal(c.email), g))


def _arm_target(
    iv_name: str, typed: dict[tuple[str, str], NamedNode], by_name: dict[str, NamedNode]
) -> NamedNode | None:
    """The intervention node an arm's intervention name refers to (see trial_quads)."""
    head, bare = _split_type_prefix(iv_name)
    if head is not None:
        try:
            kind = coerce(InterventionType, head)
        except UnknownValue:
            kind = None
        if kind is not None and (n := typed.get((kind.value, bare.casefold()))) is not None:
            return n
    return by_name.get(bare.casefold()) or by_name.get(iv_name.casefold())


def _split_type_prefix(name: str) -> tuple[str | None, str]:
    """Arm intervention names in v2/classic records are "Drug: Aspirin": ``("Drug",
    "Aspirin")``; ``(None, name)`` for a name without a type prefix."""
    head, sep, rest = name.partition(": ")
    if sep and head.replace(" ", "").replace("/", "").isalpha() and len(head) <= 25:
        return head, rest
    return None, name


def _decimal(d: Decimal) -> Literal:
    """An xsd:decimal as Oxigraph stores it: no exponent, no trailing zeros, and no
    decimal point in a whole number (2000000, 0.5), so that the quads mapped are the
    quads read back."""
    return Literal(format(d.normalize(), "f"), datatype=T.XSD_DECIMAL)


def _doses(  # type: ignore[no-untyped-def]
    add,
    owner: NamedNode,
    texts: Iterable[str | None],
    g: NamedNode,
    *,
    cells: bool,
    substances: dict[str, dict[int, DoseSubstance]],
) -> list[tuple[NamedNode, DoseSubstance | None, bool]]:
    """The doses stated in an intervention's or arm's texts (name first, then the others),
    each distinct substance, qualifier, value, range and unit once, positioned in order of
    first mention. ``cells``: the owner is (or gives) a cell therapy
    (:func:`kg.dosing.find_doses`); ``substances``: the linker's substances named before
    doses (:attr:`kg.model.Trial.dose_substances`). Returns each dose's node, the
    substance it names and whether it counts cells."""
    seen: set[tuple[object, ...]] = set()
    out: list[tuple[NamedNode, DoseSubstance | None, bool]] = []
    for text in texts:
        if not text:
            continue
        named = substances.get(text, {})
        for d in find_doses(text, counts_are_cells=cells):
            sub = named.get(d.start)
            key = (sub.iri if sub else None, d.qualifier, d.value, d.max_value, d.unit)
            if key in seen:
                continue
            seen.add(key)
            segment = _dose_segment(d)
            words = d.text
            if sub is not None:
                segment = f"{T.slug(text[sub.start : sub.end])}-{segment}"
                words = " ".join((text[sub.start : d.start] + d.text).split())
            dn = NamedNode(f"{owner.value}/dose/{segment}")
            add(Quad(owner, T.dose, dn, g))
            add(Quad(dn, T.RDF_TYPE, T.Dose, g))
            add(Quad(dn, T.position, _int(len(seen)), g))
            add(Quad(dn, T.doseValue, _decimal(d.value), g))
            if d.max_value is not None:
                add(Quad(dn, T.doseMaxValue, _decimal(d.max_value), g))
            add(Quad(dn, T.doseUnit, Literal(d.unit), g))
            if d.basis is not None:
                add(Quad(dn, T.doseBasis, _enum(d.basis), g))
            if d.qualifier is not None:
                add(Quad(dn, T.doseQualifier, _enum(d.qualifier), g))
            if sub is not None:
                add(Quad(dn, T.doseSubstance, NamedNode(sub.iri), g))
            add(Quad(dn, T.doseText, Literal(words), g))
            out.append((dn, sub, d.unit.startswith("cells")))
    return out


def _dose_of(
    sub: DoseSubstance | None, owners: list[NamedNode], interventions: list[NamedNode], known: set[NamedNode]
) -> list[NamedNode]:
    """The interventions a dose is of (``tkg:doseOf``). ``owners``: the intervention whose
    text states it, or the interventions the arm whose text states it gives. A dose
    naming no substance is its one owner's (an arm giving several: nobody's for sure); a
    dose naming a substance is the interventions' that the substance is (or is broader or
    narrower than), and else its one owner's when that is neither linked to a concept nor
    a typed cell therapy (a brand or a misspelling the vocabulary does not relate)."""
    if sub is None:
        return owners if len(owners) == 1 else []
    if sub.of:
        return [interventions[k] for k in sub.of]
    return owners if len(owners) == 1 and owners[0] not in known else []


def _links(add, node: NamedNode, links: list[Link], g: NamedNode) -> None:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    for link in links:
        target = NamedNode(link.iri)
        if link.iri not in seen:
            add(Quad(node, T.linkedConcept, target, g))
        key = f"{link.method.value}|{link.iri}"
        if key in seen:
            continue
        seen.add(link.iri)
        seen.add(key)
        ln = NamedNode(f"{node.value}/link/{link.method.value.lower()}/{T.slug(T.curie(link.iri))}")
        add(Quad(node, T.hasLink, ln, g))
        _link_node(add, ln, link, g)


def _link_node(add, ln: NamedNode, link: Link, g: NamedNode) -> None:  # type: ignore[no-untyped-def]
    add(Quad(ln, T.RDF_TYPE, T.VocabularyLink, g))
    add(Quad(ln, T.linkTarget, NamedNode(link.iri), g))
    add(Quad(ln, T.linkMethod, _enum(link.method), g))
    add(Quad(ln, T.vocabulary, Literal(link.vocabulary), g))
    if link.matched is not None:
        add(Quad(ln, T.matchedTerm, Literal(link.matched), g))


def _outcomes(add, t: NamedNode, prop: NamedNode, base: str, items: list[Outcome], *, g: NamedNode) -> None:  # type: ignore[no-untyped-def]
    for i, (o, s) in enumerate(_keyed(items, lambda x: x.measure, slugged=False), start=1):
        n = NamedNode(f"{base}/{s}")
        add(Quad(t, prop, n, g))
        add(Quad(n, T.RDF_TYPE, T.Outcome, g))
        add(Quad(n, T.position, _int(i), g))
        add(Quad(n, T.measure, Literal(o.measure), g))
        if o.time_frame is not None:
            add(Quad(n, T.timeFrame, Literal(o.time_frame), g))
        if o.description is not None:
            add(Quad(n, T.description, Literal(o.description), g))


def _age(add, e: NamedNode, p: NamedNode, ptext: NamedNode, age: Age | None, *, g: NamedNode) -> None:  # type: ignore[no-untyped-def]
    if age is None:
        return
    add(Quad(e, p, Literal(age.iso_duration, datatype=T.XSD_DURATION), g))
    add(Quad(e, ptext, Literal(str(age)), g))
