"""Negative tests for every shape and every constraint in shapes/.

Each case takes the graph of the hand-built maximal trial (which conforms with no
result at all), breaks exactly one thing, and expects exactly the listed results:
source shape, severity, focus node, path, value and constraint component. The
expectations are written by hand from the shapes' intent, not read from the
shapes; a meta-test checks that every (shape, constraint component) pair of the
shapes files has a case here. The cases run through the default engine (the
SPARQL engine); tests/test_validation_engines.py proves that pySHACL, the reference,
gives the same full report on every case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import SH

from kg import resources
from kg import terms as T
from kg.mapping import MappingOptions, graph_for, trial_quads
from kg.validation import SHAPES_NS, Engine, ValidationReport, validate_triples
from tests.maximal import NCT, maximal_trial

OPTS = MappingOptions(include_contacts=True, ingest_time="2024-01-01T00:00:00Z", links="none")
BASE_TRIAL = maximal_trial(notes=False)
GRAPH = graph_for(BASE_TRIAL)
B = f"{T.DATA_NS}trial/{NCT}"


def _h(text: str) -> str:
    """The IRI segment of a criterion, outcome or site: a hash of its text (a site's:
    facility, city, state and country) in lower case (see kg.mapping._keyed)."""
    return hashlib.sha1(text.lower().encode()).hexdigest()[:10]


NODES = {
    "trial": B,
    "source": GRAPH.value,
    "secid": f"{B}/secondary-id/2020-001234-56",
    "sponsor": f"{B}/organization/example-university-hospital",
    "rp": f"{B}/responsible-party",
    "cond": f"{B}/condition/psoriasis",
    "cond2": f"{B}/condition/mesenchymal-stem-cells",
    "iv": f"{B}/intervention/uc-msc-infusion",
    "ct": f"{B}/intervention/uc-msc-infusion/cell-therapy",
    "dose": f"{B}/intervention/uc-msc-infusion/dose/1000000-cells-per-kg",
    "armdose": f"{B}/arm/uc-msc/dose/approximately-1000000-2000000-cells-per-kg",
    "drugdose": f"{B}/arm/placebo/dose/prednisone-1-mg-per-kg",
    "link": f"{B}/condition/psoriasis/link/exact/mesh-d011565",
    "arm": f"{B}/arm/uc-msc",
    "arm2": f"{B}/arm/placebo",
    "outcome": f"{B}/outcome/primary/{_h('PASI 75 response')}",
    "elig": f"{B}/eligibility",
    "crit": f"{B}/eligibility/inclusion/{_h('Psoriasis')}",
    "loc": f"{B}/location/{_h('Example University Hospital Springfield Illinois United States')}",
    "off": f"{B}/official/ann-example",
    "contact": f"{B}/contact/study-nurse",
    "ref": f"{B}/reference/31234567",
}
XSD = T.XSD_NS
NOWHERE = ox.NamedNode("https://w3id.org/trialkg/nowhere")


def s(v: str) -> ox.Literal:
    return ox.Literal(v)


def typed(v: str, dt: str) -> ox.Literal:
    return ox.Literal(v, datatype=ox.NamedNode(XSD + dt))


def tkg(local: str) -> ox.NamedNode:
    return ox.NamedNode(T.TKG_NS + local)


def iri(v: str) -> ox.NamedNode:
    return ox.NamedNode(v)


def p(name: str) -> ox.NamedNode:
    if ":" in name:
        prefix, local = name.split(":", 1)
        return ox.NamedNode({"schema": T.SCHEMA_NS, "prov": T.PROV_NS, "rdfs": T.RDFS_NS}[prefix] + local)
    return tkg(name)


Quads = set[ox.Triple]
Mutation = Callable[[Quads, ox.NamedNode, ox.NamedNode], None]


def DROP(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
    q -= {t for t in q if t.subject == f and t.predicate == path}


def ADD(*values: ox.Term) -> Mutation:
    def m(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
        q |= {ox.Triple(f, path, v) for v in values}

    return m


def SET(value: ox.Term) -> Mutation:
    def m(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
        DROP(q, f, path)
        q.add(ox.Triple(f, path, value))

    return m


@dataclass(frozen=True)
class Expect:
    shape: str
    severity: str  # Violation, Warning, Info
    component: str  # local name before "ConstraintComponent"
    value: ox.Term | None = None
    focus: str | None = None  # default: the case's focus
    path: str | None = "same"  # default: the case's path; None: no path


@dataclass(frozen=True)
class Case:
    id: str
    focus: str
    path: str
    mutate: Mutation
    expect: tuple[Expect, ...]


V, W, INFO = "Violation", "Warning", "Info"
CASES: list[Case] = []


def case(id: str, focus: str, path: str, mutate: Mutation, *expect: Expect) -> None:
    CASES.append(Case(id, focus, path, mutate, expect + ALSO.get(id, ())))


# The trial's name-key shortcuts must match its conditions and interventions, so a case
# that changes either side also breaks ConditionNameKeyShortcutShape or
# InterventionNameKeyShortcutShape (on the trial), with these values.
def _cond_keys(*values: ox.Literal) -> tuple[Expect, ...]:
    path = T.TKG_NS + "conditionNameKey"
    return tuple(Expect("ConditionNameKeyShortcutShape", V, "SPARQL", v, focus="trial", path=path) for v in values)


def _iv_keys(*values: ox.Literal) -> tuple[Expect, ...]:
    path = T.TKG_NS + "interventionNameKey"
    return tuple(Expect("InterventionNameKeyShortcutShape", V, "SPARQL", v, focus="trial", path=path) for v in values)


def _cell_dose(node: str) -> tuple[Expect, ...]:
    return (Expect("CellDoseShape", V, "SPARQL", iri(NODES[node]), focus="iv", path=T.TKG_NS + "cellDose"),)


ALSO: dict[str, tuple[Expect, ...]] = {
    "Trial-condition/class": _cond_keys(s("psoriasis"), s("mesenchymal stem cells")),
    "Trial-condition-missing/min": _cond_keys(s("psoriasis"), s("mesenchymal stem cells")),
    "Trial-conditionNameKey/datatype": _cond_keys(s("psoriasis"), s("mesenchymal stem cells"), typed("1", "integer")),
    "Trial-intervention/class": _iv_keys(s("saline"), s("uc-msc infusion")),
    "Trial-interventionNameKey/datatype": _iv_keys(s("saline"), s("uc-msc infusion"), typed("1", "integer")),
    "Condition-nameKey/min": _cond_keys(s("psoriasis")),
    "Condition-nameKey/max": _cond_keys(s("a second value")),
    "Condition-nameKey/datatype": _cond_keys(s("psoriasis"), typed("1", "integer")),
    "Intervention-name/min": _iv_keys(s("uc-msc infusion")),
    "Intervention-name/max": _iv_keys(s("a second value")),
    "Intervention-name/datatype": _iv_keys(s("uc-msc infusion"), s("1")),
    # the intervention's cell doses must stay cell counts of it or of an arm giving it
    # (CellDoseShape): its own dose 1 million cells/kg, arm 1's 1-2 million cells/kg
    "Dose-unit/min": _cell_dose("dose"),
    "Dose-unit/datatype": _cell_dose("dose"),
    "Intervention-dose/class": _cell_dose("dose"),
    "Arm-dose/class": _cell_dose("armdose"),
    "Arm-intervention/class": _cell_dose("armdose"),
}


def one(shape: str, sev: str, comp: str, value: ox.Term | None = None) -> Expect:
    return Expect(shape, sev, comp, value)


# -- helpers for the common constraint kinds (each call is one hand-written line below)


def string_prop(shape: str, focus: str, path: str, *, required: bool = False, single: bool = True) -> None:
    if required:
        case(f"{shape}/min", focus, path, DROP, one(shape, V, "MinCount"))
    if single:
        case(f"{shape}/max", focus, path, ADD(s("a second value")), one(shape, V, "MaxCount"))
    bad = typed("1", "integer")
    case(f"{shape}/datatype", focus, path, SET(bad), one(shape, V, "Datatype", bad))


def enum_prop(
    shape: str, focus: str, path: str, enum: str, other: str, *, single: bool = True, required: bool = False
) -> None:
    if required:
        case(f"{shape}/min", focus, path, DROP, one(shape, V, "MinCount"))
    if single:
        case(f"{shape}/max", focus, path, ADD(tkg(f"{enum}_{other}")), one(shape, V, "MaxCount"))
    bogus = tkg(f"{enum}_BOGUS")
    case(f"{shape}/in", focus, path, SET(bogus), one(shape, V, "In", bogus))
    lit = s(other)
    case(f"{shape}/nodeKind", focus, path, SET(lit), one(shape, V, "In", lit), one(shape, V, "NodeKind", lit))


def class_prop(shape: str, focus: str, path: str, *, single: bool = False, required: bool = False) -> None:
    if required:
        case(f"{shape}/min", focus, path, DROP, one(shape, V, "MinCount"))
    if single:
        case(f"{shape}/max", focus, path, ADD(NOWHERE), one(shape, V, "MaxCount"), one(shape, V, "Class", NOWHERE))
    case(f"{shape}/class", focus, path, SET(NOWHERE), one(shape, V, "Class", NOWHERE))


def bool_prop(shape: str, focus: str, path: str, current: bool) -> None:
    other = typed(str(not current).lower(), "boolean")
    case(f"{shape}/max", focus, path, ADD(other), one(shape, V, "MaxCount"))
    case(f"{shape}/datatype", focus, path, SET(s("yes")), one(shape, V, "Datatype", s("yes")))


def date_prop(shape: str, focus: str, path: str, second: str = "2001") -> None:
    case(f"{shape}/max", focus, path, ADD(typed(second, "gYear")), one(shape, V, "MaxCount"))
    case(f"{shape}/or", focus, path, SET(s("2019-05")), one(shape, V, "Or", s("2019-05")))


def iri_pattern_prop(shape: str, focus: str, path: str, good: str) -> None:
    """IRI-valued with an IRI pattern: a wrong namespace, and the right text as a literal."""
    case(
        f"{shape}/pattern",
        focus,
        path,
        ADD(iri("https://example.org/concept/1")),
        one(shape, V, "Pattern", iri("https://example.org/concept/1")),
    )
    case(f"{shape}/nodeKind", focus, path, ADD(s(good)), one(shape, V, "NodeKind", s(good)))


def int_position(shape: str, focus: str) -> None:
    case(f"{shape}/min", focus, "position", DROP, one(shape, V, "MinCount"))
    case(f"{shape}/max", focus, "position", ADD(typed("7", "integer")), one(shape, V, "MaxCount"))
    case(
        f"{shape}/minInclusive",
        focus,
        "position",
        SET(typed("0", "integer")),
        one(shape, V, "MinInclusive", typed("0", "integer")),
    )
    # a string is not an integer, and is not comparable with 1 either
    case(
        f"{shape}/datatype",
        focus,
        "position",
        SET(s("1")),
        one(shape, V, "Datatype", s("1")),
        one(shape, V, "MinInclusive", s("1")),
    )


MESH = "http://id.nlm.nih.gov/mesh/"
OBO = "http://purl.obolibrary.org/obo/"

# ---------------------------------------------------------------- clinical trial
case("Trial-nctId/min", "trial", "nctId", DROP, one("Trial-nctId", V, "MinCount"))
case(
    "Trial-nctId/max",
    "trial",
    "nctId",
    ADD(s("NCT09900043")),
    one("Trial-nctId", V, "MaxCount"),
    Expect("NctIdIriShape", V, "SPARQL", s("NCT09900043")),
)
case(
    "Trial-nctId/datatype",
    "trial",
    "nctId",
    SET(typed(NCT, "token")),
    one("Trial-nctId", V, "Datatype", typed(NCT, "token")),
)
case(
    "Trial-nctId/pattern",
    "trial",
    "nctId",
    SET(s("NCT9900042")),
    one("Trial-nctId", V, "Pattern", s("NCT9900042")),
    Expect("NctIdIriShape", V, "SPARQL", s("NCT9900042")),
)
string_prop("Trial-orgStudyId", "trial", "orgStudyId")
class_prop("Trial-secondaryIdentifier", "trial", "secondaryIdentifier")
case(
    "Trial-nctIdAlias/datatype",
    "trial",
    "nctIdAlias",
    SET(typed("NCT09900041", "token")),
    one("Trial-nctIdAlias", V, "Datatype", typed("NCT09900041", "token")),
)
case(
    "Trial-nctIdAlias/pattern",
    "trial",
    "nctIdAlias",
    SET(s("9900041")),
    one("Trial-nctIdAlias", V, "Pattern", s("9900041")),
)
string_prop("Trial-acronym", "trial", "acronym")
string_prop("Trial-briefTitle", "trial", "briefTitle")
case("Trial-briefTitle-missing/min", "trial", "briefTitle", DROP, one("Trial-briefTitle-missing", W, "MinCount"))
string_prop("Trial-officialTitle", "trial", "officialTitle")
enum_prop("Trial-overallStatus", "trial", "overallStatus", "Status", "COMPLETED")
case(
    "Trial-overallStatus-missing/min", "trial", "overallStatus", DROP, one("Trial-overallStatus-missing", W, "MinCount")
)
enum_prop("Trial-lastKnownStatus", "trial", "lastKnownStatus", "Status", "COMPLETED")
string_prop("Trial-whyStopped", "trial", "whyStopped")
date_prop("Trial-statusVerifiedDate", "trial", "statusVerifiedDate")
date_prop("Trial-startDate", "trial", "startDate")
date_prop("Trial-primaryCompletionDate", "trial", "primaryCompletionDate")
date_prop("Trial-completionDate", "trial", "completionDate", second="2099")
date_prop("Trial-firstPostedDate", "trial", "firstPostedDate")
date_prop("Trial-lastUpdatePostedDate", "trial", "lastUpdatePostedDate")
date_prop("Trial-resultsFirstPostedDate", "trial", "resultsFirstPostedDate")
enum_prop("Trial-startDateType", "trial", "startDateType", "DateType", "ESTIMATED")
enum_prop("Trial-primaryCompletionDateType", "trial", "primaryCompletionDateType", "DateType", "ACTUAL")
enum_prop("Trial-completionDateType", "trial", "completionDateType", "DateType", "ACTUAL")
case(
    "Trial-leadSponsor/max",
    "trial",
    "leadSponsor",
    ADD(iri(f"{B}/organization/example-cell-therapeutics-inc")),
    one("Trial-leadSponsor", V, "MaxCount"),
)
class_prop("Trial-leadSponsor", "trial", "leadSponsor")
case("Trial-leadSponsor-missing/min", "trial", "leadSponsor", DROP, one("Trial-leadSponsor-missing", W, "MinCount"))
class_prop("Trial-collaborator", "trial", "collaborator")
class_prop("Trial-responsibleParty", "trial", "responsibleParty", single=True)
bool_prop("Trial-hasDataMonitoringCommittee", "trial", "hasDataMonitoringCommittee", True)
bool_prop("Trial-isFdaRegulatedDrug", "trial", "isFdaRegulatedDrug", False)
bool_prop("Trial-isFdaRegulatedDevice", "trial", "isFdaRegulatedDevice", False)
bool_prop("Trial-hasResults", "trial", "hasResults", True)
string_prop("Trial-briefSummary", "trial", "briefSummary")
string_prop("Trial-detailedDescription", "trial", "detailedDescription")
class_prop("Trial-condition", "trial", "condition")
case("Trial-condition-missing/min", "trial", "condition", DROP, one("Trial-condition-missing", W, "MinCount"))
string_prop("Trial-keyword", "trial", "keyword", single=False)
string_prop("Trial-conditionNameKey", "trial", "conditionNameKey", single=False)
string_prop("Trial-interventionNameKey", "trial", "interventionNameKey", single=False)
enum_prop("Trial-studyType", "trial", "studyType", "StudyType", "INTERVENTIONAL", single=False)
# a second study type other than INTERVENTIONAL also contradicts the trial's phases
case(
    "Trial-studyType/max",
    "trial",
    "studyType",
    ADD(tkg("StudyType_EXPANDED_ACCESS")),
    one("Trial-studyType", V, "MaxCount"),
    Expect("PhaseStudyTypeShape", V, "SPARQL", tkg("StudyType_EXPANDED_ACCESS")),
)
case("Trial-studyType-missing/min", "trial", "studyType", DROP, one("Trial-studyType-missing", W, "MinCount"))
enum_prop("Trial-phase", "trial", "phase", "Phase", "PHASE3", single=False)
enum_prop("Trial-allocation", "trial", "allocation", "Allocation", "NA")
enum_prop("Trial-interventionModel", "trial", "interventionModel", "InterventionModel", "CROSSOVER")
enum_prop("Trial-primaryPurpose", "trial", "primaryPurpose", "PrimaryPurpose", "PREVENTION")
enum_prop("Trial-masking", "trial", "masking", "Masking", "TRIPLE")
enum_prop("Trial-whoMasked", "trial", "whoMasked", "WhoMasked", "CARE_PROVIDER", single=False)
enum_prop("Trial-observationalModel", "trial", "observationalModel", "ObservationalModel", "CASE_CONTROL")
enum_prop("Trial-timePerspective", "trial", "timePerspective", "TimePerspective", "RETROSPECTIVE")
case(
    "Trial-enrollmentCount/max",
    "trial",
    "enrollmentCount",
    ADD(typed("41", "integer")),
    one("Trial-enrollmentCount", V, "MaxCount"),
)
case(
    "Trial-enrollmentCount/datatype",
    "trial",
    "enrollmentCount",
    SET(typed("40.5", "decimal")),
    one("Trial-enrollmentCount", V, "Datatype", typed("40.5", "decimal")),
)
case(
    "Trial-enrollmentCount/minInclusive",
    "trial",
    "enrollmentCount",
    SET(typed("-3", "integer")),
    one("Trial-enrollmentCount", V, "MinInclusive", typed("-3", "integer")),
)
enum_prop("Trial-enrollmentType", "trial", "enrollmentType", "EnrollmentType", "ACTUAL")
class_prop("Trial-arm", "trial", "arm")
class_prop("Trial-intervention", "trial", "intervention")
class_prop("Trial-primaryOutcome", "trial", "primaryOutcome")
class_prop("Trial-secondaryOutcome", "trial", "secondaryOutcome")
class_prop("Trial-otherOutcome", "trial", "otherOutcome")
class_prop("Trial-eligibility", "trial", "eligibility", single=True)
class_prop("Trial-location", "trial", "location")
class_prop("Trial-official", "trial", "official")
class_prop("Trial-contact", "trial", "contact")
class_prop("Trial-reference", "trial", "reference")
for m in ("conditionMesh", "conditionMeshAncestor", "interventionMesh", "interventionMeshAncestor"):
    iri_pattern_prop(f"Trial-{m}", "trial", m, MESH + "D000001")
string_prop("Trial-conditionMeshHeading", "trial", "conditionMeshHeading", single=False)
string_prop("Trial-interventionMeshHeading", "trial", "interventionMeshHeading", single=False)

# ---------------------------------------------------------------- source record (provenance)
case("Source-describesTrial/min", "source", "describesTrial", DROP, one("Source-describesTrial", V, "MinCount"))
class_prop("Source-describesTrial", "source", "describesTrial", single=True)
enum_prop("Source-sourceFormat", "source", "sourceFormat", "SourceFormat", "ctgov-xml", required=True)
string_prop("Source-sourceFile", "source", "sourceFile", required=True)
case("Source-checksum/min", "source", "checksum", DROP, one("Source-checksum", V, "MinCount"))
case("Source-checksum/max", "source", "checksum", ADD(s("sha256:" + "cd" * 32)), one("Source-checksum", V, "MaxCount"))
case(
    "Source-checksum/datatype",
    "source",
    "checksum",
    SET(typed("sha256:" + "ab" * 32, "token")),
    one("Source-checksum", V, "Datatype", typed("sha256:" + "ab" * 32, "token")),
)
case(
    "Source-checksum/pattern",
    "source",
    "checksum",
    SET(s("md5:0123")),
    one("Source-checksum", V, "Pattern", s("md5:0123")),
)
date_prop("Source-recordLastUpdate", "source", "recordLastUpdate")
case(
    "Source-recordLastUpdateText/max",
    "source",
    "recordLastUpdateText",
    ADD(s("Spring 2024"), s("May 2024")),
    one("Source-recordLastUpdateText", V, "MaxCount"),
)
case(
    "Source-recordLastUpdateText/datatype",
    "source",
    "recordLastUpdateText",
    ADD(typed("2024", "integer")),
    one("Source-recordLastUpdateText", V, "Datatype", typed("2024", "integer")),
)
case("Source-partial/min", "source", "partial", DROP, one("Source-partial", V, "MinCount"))
case(
    "Source-partial/max",
    "source",
    "partial",
    ADD(typed("true", "boolean")),
    one("Source-partial", V, "MaxCount"),
    one("Source-partial-page", W, "In", typed("true", "boolean")),
)
case(
    "Source-partial/datatype",
    "source",
    "partial",
    SET(s("false")),
    one("Source-partial", V, "Datatype", s("false")),
    one("Source-partial-page", W, "In", s("false")),
)
case(
    "Source-partial-page/in",
    "source",
    "partial",
    SET(typed("true", "boolean")),
    one("Source-partial-page", W, "In", typed("true", "boolean")),
)
string_prop("Source-toolVersion", "source", "toolVersion", required=True)
string_prop("Source-ingestSettings", "source", "ingestSettings")
case(
    "Source-generatedAtTime/max",
    "source",
    "prov:generatedAtTime",
    ADD(typed("2024-02-01T00:00:00Z", "dateTime")),
    one("Source-generatedAtTime", V, "MaxCount"),
)
case(
    "Source-generatedAtTime/datatype",
    "source",
    "prov:generatedAtTime",
    SET(s("2024-01-01")),
    one("Source-generatedAtTime", V, "Datatype", s("2024-01-01")),
)
case(
    "Source-parseNote/datatype",
    "source",
    "parseNote",
    ADD(typed("1", "integer")),
    one("Source-parseNote", V, "Datatype", typed("1", "integer")),
    one("Source-parseNote-present", INFO, "MaxCount"),
)
case(
    "Source-parseNote-present/max",
    "source",
    "parseNote",
    ADD(s("unmapped value 'Phase 5'")),
    one("Source-parseNote-present", INFO, "MaxCount"),
)

# ---------------------------------------------------------------- other classes
string_prop("SecondaryId-value", "secid", "identifierValue", required=True)
int_position("SecondaryId-position", "secid")
string_prop("SecondaryId-type", "secid", "identifierType")
string_prop("SecondaryId-domain", "secid", "identifierDomain")
string_prop("Organization-name", "sponsor", "name", required=True)
enum_prop("Organization-agencyClass", "sponsor", "agencyClass", "AgencyClass", "INDUSTRY")
enum_prop("ResponsibleParty-type", "rp", "responsiblePartyType", "ResponsiblePartyType", "SPONSOR")
string_prop("ResponsibleParty-name", "rp", "name")
string_prop("ResponsibleParty-title", "rp", "investigatorTitle")
string_prop("ResponsibleParty-affiliation", "rp", "affiliation")

string_prop("Condition-name", "cond", "name", required=True)
string_prop("Condition-nameKey", "cond", "nameKey", required=True)
string_prop("Condition-verbatim", "cond", "verbatim")
bool_prop("Condition-splitUncertain", "cond", "splitUncertain", True)
bool_prop("Condition-isCellType", "cond2", "isCellType", True)
iri_pattern_prop("Condition-linkedConcept", "cond", "linkedConcept", MESH + "D000001")


def UNLINK(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
    """The condition loses its links (the link records stay, ownerless)."""
    q -= {t for t in q if t.subject == f and t.predicate in (tkg("linkedConcept"), tkg("hasLink"))}


case(
    "Condition-linkedConcept-missing/min",
    "cond",
    "linkedConcept",
    UNLINK,
    one("Condition-linkedConcept-missing", W, "MinCount"),
)
case("Condition-hasLink/class", "cond", "hasLink", ADD(NOWHERE), one("Condition-hasLink", V, "Class", NOWHERE))
case("Trial-keywordLink/class", "trial", "keywordLink", ADD(NOWHERE), one("Trial-keywordLink", V, "Class", NOWHERE))

string_prop("Intervention-name", "iv", "name", required=True)
int_position("Intervention-position", "iv")
string_prop("Intervention-nameKey", "iv", "nameKey", required=True, single=False)
enum_prop("Intervention-type", "iv", "interventionType", "InterventionType", "DRUG")
case("Intervention-type-missing/min", "iv", "interventionType", DROP, one("Intervention-type-missing", W, "MinCount"))
string_prop("Intervention-description", "iv", "description")
string_prop("Intervention-otherName", "iv", "otherName", single=False)
iri_pattern_prop("Intervention-linkedConcept", "iv", "linkedConcept", MESH + "D000001")
case("Intervention-hasLink/class", "iv", "hasLink", ADD(NOWHERE), one("Intervention-hasLink", V, "Class", NOWHERE))
class_prop("Intervention-cellTherapy", "iv", "cellTherapy", single=True)

iri_pattern_prop("CellTherapy-cellType", "ct", "cellType", OBO + "CL_0000001")
iri_pattern_prop("CellTherapy-cellSource", "ct", "cellSource", OBO + "UBERON_0000001")
enum_prop("CellTherapy-cellOrigin", "ct", "cellOrigin", "CellOrigin", "AUTOLOGOUS")
string_prop("CellTherapy-evidenceText", "ct", "evidenceText")

# the link record's target must stay a linked concept of its condition (LinkTargetShape), so
# changing it also breaks that rule
case("Link-target/min", "link", "linkTarget", DROP, one("Link-target", V, "MinCount"))
case("Link-target/max", "link", "linkTarget", ADD(iri(OBO + "DOID_8893")), one("Link-target", V, "MaxCount"))
case(
    "Link-target/pattern",
    "link",
    "linkTarget",
    SET(iri("https://example.org/concept/1")),
    one("Link-target", V, "Pattern", iri("https://example.org/concept/1")),
    Expect("LinkTargetShape", V, "SPARQL", iri("https://example.org/concept/1")),
)
case(
    "Link-target/nodeKind",
    "link",
    "linkTarget",
    SET(s(MESH + "D011565")),
    one("Link-target", V, "NodeKind", s(MESH + "D011565")),
    Expect("LinkTargetShape", V, "SPARQL", s(MESH + "D011565")),
)
enum_prop("Link-method", "link", "linkMethod", "LinkMethod", "SYNONYM", required=True)
string_prop("Link-vocabulary", "link", "vocabulary", required=True)
string_prop("Link-matchedTerm", "link", "matchedTerm")

string_prop("Arm-name", "arm", "name", required=True)
int_position("Arm-position", "arm")
int_position("Dose-position", "dose")
enum_prop("Arm-type", "arm", "armType", "ArmType", "OTHER")
string_prop("Arm-description", "arm", "description")
class_prop("Arm-intervention", "arm", "armIntervention")
class_prop("Arm-dose", "arm", "dose")

class_prop("Intervention-dose", "iv", "dose")
case(
    "Intervention-cellDose/class",
    "iv",
    "cellDose",
    SET(NOWHERE),
    one("Intervention-cellDose", V, "Class", NOWHERE),
    Expect("CellDoseShape", V, "SPARQL", NOWHERE),
)
# a dose of the intervention that counts no cells
case(
    "CellDoseShape/not-cells",
    "dose",
    "doseUnit",
    SET(s("mg/kg")),
    Expect("CellDoseShape", V, "SPARQL", iri(NODES["dose"]), focus="iv", path=T.TKG_NS + "cellDose"),
)
case("Dose-value/min", "dose", "doseValue", DROP, one("Dose-value", V, "MinCount"))
case("Dose-value/max", "dose", "doseValue", ADD(typed("2", "decimal")), one("Dose-value", V, "MaxCount"))
case(
    "Dose-value/minExclusive",
    "dose",
    "doseValue",
    SET(typed("0", "decimal")),
    one("Dose-value", V, "MinExclusive", typed("0", "decimal")),
)
# text is not a decimal, and is not comparable with 0 either
case(
    "Dose-value/datatype",
    "dose",
    "doseValue",
    SET(s("1000000")),
    one("Dose-value", V, "Datatype", s("1000000")),
    one("Dose-value", V, "MinExclusive", s("1000000")),
)
case(
    "Dose-maxValue/max",
    "armdose",
    "doseMaxValue",
    ADD(typed("3000000", "decimal")),
    one("Dose-maxValue", V, "MaxCount"),
)
case("Dose-maxValue/datatype", "armdose", "doseMaxValue", SET(s("2")), one("Dose-maxValue", V, "Datatype", s("2")))
case("Dose-unit/min", "dose", "doseUnit", DROP, one("Dose-unit", V, "MinCount"))
case("Dose-unit/max", "dose", "doseUnit", ADD(s("mg")), one("Dose-unit", V, "MaxCount"))
case("Dose-unit/pattern", "dose", "doseUnit", SET(s("cells/mL")), one("Dose-unit", V, "Pattern", s("cells/mL")))
case(
    "Dose-unit/datatype",
    "dose",
    "doseUnit",
    SET(typed("1", "integer")),
    one("Dose-unit", V, "Datatype", typed("1", "integer")),
    one("Dose-unit", V, "Pattern", typed("1", "integer")),
)
enum_prop("Dose-basis", "dose", "doseBasis", "DoseBasis", "BODY_SURFACE_AREA")
# the arm states "approximately 1-2 million cells/kg"
enum_prop("Dose-qualifier", "armdose", "doseQualifier", "DoseQualifier", "AT_MOST")
class_prop("Dose-doseOf", "dose", "doseOf")
# the placebo arm's "prednisone 1 mg/kg" names its substance
case(
    "Dose-substance/max",
    "drugdose",
    "doseSubstance",
    ADD(iri("http://id.nlm.nih.gov/mesh/D015080")),
    one("Dose-substance", V, "MaxCount"),
)
case(
    "Dose-substance/nodeKind",
    "drugdose",
    "doseSubstance",
    SET(s("D011241")),
    one("Dose-substance", V, "NodeKind", s("D011241")),
)
string_prop("Dose-text", "dose", "doseText", required=True)

string_prop("Outcome-measure", "outcome", "measure", required=True)
int_position("Outcome-position", "outcome")
string_prop("Outcome-timeFrame", "outcome", "timeFrame")
string_prop("Outcome-description", "outcome", "description")

string_prop("Eligibility-criteriaText", "elig", "criteriaText")
class_prop("Eligibility-inclusion", "elig", "inclusionCriterion")
class_prop("Eligibility-exclusion", "elig", "exclusionCriterion")
enum_prop("Eligibility-sex", "elig", "sex", "Sex", "FEMALE")
bool_prop("Eligibility-genderBased", "elig", "genderBased", False)
case(
    "Eligibility-minimumAge/max",
    "elig",
    "minimumAge",
    ADD(typed("P1Y", "duration")),
    one("Eligibility-minimumAge", V, "MaxCount"),
)
case(
    "Eligibility-minimumAge/datatype",
    "elig",
    "minimumAge",
    SET(s("P18Y")),
    one("Eligibility-minimumAge", V, "Datatype", s("P18Y")),
)
case(
    "Eligibility-maximumAge/max",
    "elig",
    "maximumAge",
    ADD(typed("P99Y", "duration")),
    one("Eligibility-maximumAge", V, "MaxCount"),
)
case(
    "Eligibility-maximumAge/datatype",
    "elig",
    "maximumAge",
    SET(s("P65Y")),
    one("Eligibility-maximumAge", V, "Datatype", s("P65Y")),
)
string_prop("Eligibility-minimumAgeText", "elig", "minimumAgeText")
string_prop("Eligibility-maximumAgeText", "elig", "maximumAgeText")
bool_prop("Eligibility-healthyVolunteers", "elig", "healthyVolunteers", False)
case("Eligibility-stdAge/in", "elig", "stdAge", ADD(s("INFANT")), one("Eligibility-stdAge", V, "In", s("INFANT")))

int_position("Criterion-position", "crit")
string_prop("Criterion-text", "crit", "text", required=True)

int_position("Location-position", "loc")
for x in ("facility", "city", "state", "postalCode", "country"):
    string_prop(f"Location-{x}", "loc", x)
enum_prop("Location-status", "loc", "locationStatus", "LocationStatus", "COMPLETED")
class_prop("Location-contact", "loc", "contact")

string_prop("Official-name", "off", "name", required=True)
int_position("Official-position", "off")
enum_prop("Official-role", "off", "officialRole", "OfficialRole", "STUDY_CHAIR")
string_prop("Official-affiliation", "off", "affiliation")

string_prop("Contact-name", "contact", "name")
case("Contact-name-missing/min", "contact", "name", DROP, one("Contact-name-missing", INFO, "MinCount"))
enum_prop("Contact-role", "contact", "contactRole", "ContactRole", "PRINCIPAL_INVESTIGATOR")
string_prop("Contact-telephone", "contact", "schema:telephone")
string_prop("Contact-email", "contact", "schema:email")

case("Reference-pmid/max", "ref", "pmid", ADD(s("123")), one("Reference-pmid", V, "MaxCount"))
case(
    "Reference-pmid/datatype",
    "ref",
    "pmid",
    SET(typed("31234567", "integer")),
    one("Reference-pmid", V, "Datatype", typed("31234567", "integer")),
)
case(
    "Reference-pmid-format/pattern",
    "ref",
    "pmid",
    SET(s("PMC1234")),
    one("Reference-pmid-format", W, "Pattern", s("PMC1234")),
)
enum_prop("Reference-type", "ref", "referenceType", "ReferenceType", "RESULT")
string_prop("Reference-citation", "ref", "citation")
case(
    "Reference-seeAlso/pattern",
    "ref",
    "rdfs:seeAlso",
    SET(iri("https://example.org/paper/1")),
    one("Reference-seeAlso", V, "Pattern", iri("https://example.org/paper/1")),
)
case(
    "Reference-seeAlso/nodeKind",
    "ref",
    "rdfs:seeAlso",
    SET(s("https://pubmed.ncbi.nlm.nih.gov/31234567/")),
    one("Reference-seeAlso", V, "NodeKind", s("https://pubmed.ncbi.nlm.nih.gov/31234567/")),
)

# ---------------------------------------------------------------- cross-field rules (SHACL-SPARQL)
case(
    "TrialDateOrderShape/start-after-completion",
    "trial",
    "startDate",
    SET(typed("2025-01-01", "date")),
    Expect("TrialDateOrderShape", V, "SPARQL", typed("2025-01-01", "date")),
)


def SET_BOTH(start: ox.Literal, end: ox.Literal) -> Mutation:
    def m(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
        SET(start)(q, f, tkg("startDate"))
        SET(end)(q, f, tkg("completionDate"))

    return m


# precision: a day after a month is compared on the month they share
case(
    "TrialDateOrderShape/day-after-month",
    "trial",
    "startDate",
    SET_BOTH(typed("2024-07-01", "date"), typed("2024-06", "gYearMonth")),
    Expect("TrialDateOrderShape", V, "SPARQL", typed("2024-07-01", "date")),
)
case(
    "EligibilityAgeOrderShape/years",
    "elig",
    "minimumAge",
    SET(typed("P70Y", "duration")),
    Expect("EligibilityAgeOrderShape", V, "SPARQL", typed("P70Y", "duration")),
)


def SET_AGES(lo: str, hi: str) -> Mutation:
    def m(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
        SET(typed(lo, "duration"))(q, f, tkg("minimumAge"))
        SET(typed(hi, "duration"))(q, f, tkg("maximumAge"))

    return m


case(
    "EligibilityAgeOrderShape/hours-vs-days",
    "elig",
    "minimumAge",
    SET_AGES("PT48H", "P1D"),
    Expect("EligibilityAgeOrderShape", V, "SPARQL", typed("PT48H", "duration")),
)
case(
    "EligibilityAgeOrderShape/months-vs-years",
    "elig",
    "minimumAge",
    SET_AGES("P18M", "P1Y"),
    Expect("EligibilityAgeOrderShape", V, "SPARQL", typed("P18M", "duration")),
)
# durations with several parts, as a store writes them back ("P18M" is stored as "P1Y6M")
case(
    "EligibilityAgeOrderShape/several-parts",
    "elig",
    "minimumAge",
    SET_AGES("P1Y6M", "P1Y5M29D"),
    Expect("EligibilityAgeOrderShape", V, "SPARQL", typed("P1Y6M", "duration")),
)
case(
    "EligibilityAgeOrderShape/days-and-hours",
    "elig",
    "minimumAge",
    SET_AGES("P1DT1H", "PT24H"),
    Expect("EligibilityAgeOrderShape", V, "SPARQL", typed("P1DT1H", "duration")),
)
case(
    "ConditionNameKeyShortcutShape/stale",
    "trial",
    "conditionNameKey",
    ADD(s("eczema")),
    Expect("ConditionNameKeyShortcutShape", V, "SPARQL", s("eczema")),
)
case(
    "InterventionNameKeyShortcutShape/missing",
    "trial",
    "interventionNameKey",
    DROP,
    Expect("InterventionNameKeyShortcutShape", V, "SPARQL", s("saline")),
    Expect("InterventionNameKeyShortcutShape", V, "SPARQL", s("uc-msc infusion")),
)
# a key compares with the name in any letter case
case(
    "InterventionNameKeyShortcutShape/renamed",
    "iv",
    "name",
    SET(s("UC-MSC Infusion, High Dose")),
    *_iv_keys(s("uc-msc infusion, high dose"), s("uc-msc infusion")),
)
case(
    "PhaseStudyTypeShape/observational",
    "trial",
    "studyType",
    SET(tkg("StudyType_OBSERVATIONAL")),
    Expect("PhaseStudyTypeShape", V, "SPARQL", tkg("StudyType_OBSERVATIONAL")),
)
# SHACL: a SPARQL result without ?value reports the focus node as its value
case(
    "ArmInterventionShape/no-intervention",
    "arm2",
    "armIntervention",
    DROP,
    Expect("ArmInterventionShape", W, "SPARQL", iri(NODES["arm2"])),
)


def NYR_ACTUAL(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
    SET(tkg("Status_NOT_YET_RECRUITING"))(q, f, tkg("overallStatus"))
    SET(tkg("EnrollmentType_ACTUAL"))(q, f, tkg("enrollmentType"))


case(
    "ActualEnrollmentNotYetRecruitingShape/actual",
    "trial",
    "enrollmentType",
    NYR_ACTUAL,
    Expect("ActualEnrollmentNotYetRecruitingShape", W, "SPARQL", tkg("EnrollmentType_ACTUAL")),
)


def NO_PROVENANCE(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
    q -= {t for t in q if t.subject == GRAPH}


case(
    "TrialProvenanceShape/no-source-record",
    "trial",
    "describesTrial",
    NO_PROVENANCE,
    Expect("TrialProvenanceShape", V, "SPARQL", iri(B), path=None),
)
case(
    "NctIdIriShape/other-id",
    "trial",
    "nctId",
    SET(s("NCT09900043")),
    Expect("NctIdIriShape", V, "SPARQL", s("NCT09900043")),
)


def UNLINK_ONE(q: Quads, f: ox.NamedNode, path: ox.NamedNode) -> None:
    q.discard(ox.Triple(iri(NODES["cond"]), tkg("linkedConcept"), iri(MESH + "D011565")))


case(
    "LinkTargetShape/dangling",
    "link",
    "linkTarget",
    UNLINK_ONE,
    Expect("LinkTargetShape", V, "SPARQL", iri(MESH + "D011565")),
)

# ---------------------------------------------------------------- running the cases


def _base() -> Quads:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in trial_quads(BASE_TRIAL, OPTS)}


def _nt(term: ox.Term | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype == T.XSD_STRING and not term.language:
        return f"{term}^^<{XSD}string>"
    return str(term)


def _observed(report: ValidationReport) -> set[tuple[str, str, str, str, str | None, str | None]]:
    return {
        (r.source_shape, r.severity.value, r.constraint_component, r.focus_node, r.result_path, r.value)
        for r in report.results
    }


@pytest.mark.parametrize("engine", [e.value for e in Engine])
def test_base_graph_has_no_result(engine: str) -> None:
    rep = validate_triples(_base(), graph=GRAPH.value, nct_id=NCT, engine=engine)
    assert rep.results == []


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_broken_graph_gives_exactly_the_expected_results(c: Case) -> None:
    quads = _base()
    focus = iri(NODES[c.focus])
    path = p(c.path)
    before = len(quads)
    c.mutate(quads, focus, path)
    assert quads != _base() or len(quads) != before, "the mutation changed nothing"
    rep = validate_triples(quads, graph=GRAPH.value, nct_id=NCT)
    expected = {
        (
            SHAPES_NS + e.shape,
            e.severity,
            f"{T.SH_NS}{e.component}ConstraintComponent",
            NODES[e.focus] if e.focus else focus.value,
            path.value if e.path == "same" else e.path,
            _nt(e.value),
        )
        for e in c.expect
    }
    assert _observed(rep) == expected
    assert rep.conforms == all(e.severity != "Violation" for e in c.expect)
    for r in rep.results:
        assert r.message, "every result carries a curator message"
        assert r.trial_id == NCT and r.graph == GRAPH.value


def test_every_shape_and_constraint_has_a_negative_case() -> None:
    g = rdflib.Graph()
    for f in resources.shape_files():
        g.parse(f, format="turtle")
    components = {
        SH.minCount: "MinCount",
        SH.maxCount: "MaxCount",
        SH.datatype: "Datatype",
        SH["or"]: "Or",
        SH.nodeKind: "NodeKind",
        SH["class"]: "Class",
        SH["in"]: "In",
        SH.pattern: "Pattern",
        SH.minInclusive: "MinInclusive",
        SH.minExclusive: "MinExclusive",
        SH.sparql: "SPARQL",
    }
    needed = set()
    for shape in set(g.subjects(SH.path, None)) | set(g.subjects(SH.sparql, None)):
        name = str(shape).removeprefix(SHAPES_NS)
        for pred, comp in components.items():
            if (shape, pred, None) in g:
                needed.add((name, comp))
        assert any(True for _ in g.objects(shape, SH.message)), f"{name} has no sh:message"
    covered = {(e.shape, e.component) for c in CASES for e in c.expect}
    assert needed - covered == set()
    assert covered - needed == set(), "a case expects a constraint the shapes do not have"
    assert len({c.id for c in CASES}) == len(CASES)


def test_dates_of_different_precision_in_order_conform() -> None:
    """A start month inside the completion year is not "after" it."""
    quads = _base()
    SET_BOTH(typed("2024-06", "gYearMonth"), typed("2024", "gYear"))(quads, iri(B), tkg("startDate"))
    assert validate_triples(quads).results == []


def test_ages_with_several_parts_in_order_conform() -> None:
    """18 months written two ways, and a minimum below a maximum of another unit."""
    for lo, hi in (("P1Y6M", "P18M"), ("P18M", "P1Y6M"), ("P1Y6M", "P2Y"), ("PT12H", "P1DT1H")):
        quads = _base()
        SET_AGES(lo, hi)(quads, iri(NODES["elig"]), tkg("minimumAge"))
        assert validate_triples(quads).results == [], (lo, hi)


def test_no_intervention_arm_without_intervention_conforms() -> None:
    quads = _base()
    arm2 = iri(NODES["arm2"])
    DROP(quads, arm2, tkg("armIntervention"))
    SET(tkg("ArmType_NO_INTERVENTION"))(quads, arm2, tkg("armType"))
    assert validate_triples(quads).results == []
