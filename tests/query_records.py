"""The saved-query tests' own reading of source records and vocabularies.

Expected answers for ``tests/test_queries.py`` are computed here, straight from the
record files (v2 JSON, classic JSON, legacy XML) with the standard library and
hand-written tables from display spellings to the v2 codes, never through the graph or
kg's parsers. A spelling missing from a table fails loudly (KeyError): a new spelling
must be looked at. Vocabularies are read from their quads (the SKOS input), so that
labels and narrower concepts are known without SPARQL.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from tests.ctgov_display import AGENCY_CLASS, ARM_TYPE, INTERVENTION_TYPE, PHASE, SEX, STATUS, STUDY_TYPE

MESH = "http://id.nlm.nih.gov/mesh/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

PHASE_ORDER = ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"]
ALLOCATION = {"Randomized": "RANDOMIZED", "Non-Randomized": "NON_RANDOMIZED", "N/A": "NA"}
MODEL = {
    "Parallel Assignment": "PARALLEL",
    "Single Group Assignment": "SINGLE_GROUP",
    "Crossover Assignment": "CROSSOVER",
    "Factorial Assignment": "FACTORIAL",
    "Sequential Assignment": "SEQUENTIAL",
}
MASKING = {
    "None (Open Label)": "NONE",
    "Single": "SINGLE",
    "Double": "DOUBLE",
    "Triple": "TRIPLE",
    "Quadruple": "QUADRUPLE",
}
#: Sections of the classic results section that hold results (MoreInfoModule alone does not).
RESULTS_MODULES = (
    "ParticipantFlowModule",
    "BaselineCharacteristicsModule",
    "OutcomeMeasuresModule",
    "AdverseEventsModule",
)
MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}


@dataclass
class Intervention:
    name: str
    type: str | None
    other_names: list[str] = field(default_factory=list)
    arm_labels: list[str] = field(default_factory=list)


@dataclass
class Arm:
    label: str
    type: str | None
    intervention_names: list[str] = field(default_factory=list)


@dataclass
class Record:
    """What one source record says, in v2 codes."""

    nct: str
    format: str
    file: str
    title: str | None = None
    status: str | None = None
    last_known_status: str | None = None
    phases: set[str] = field(default_factory=set)
    study_type: str | None = None
    allocation: str | None = None
    masking: str | None = None
    model: str | None = None
    enrollment: int | None = None
    start: str | None = None
    completion: str | None = None
    results: bool = False
    results_posted: str | None = None
    last_update: str | None = None
    sponsor: tuple[str, str | None] | None = None
    conditions: list[str] = field(default_factory=list)
    mesh: set[str] = field(default_factory=set)
    mesh_ancestors: set[str] = field(default_factory=set)
    interventions: list[Intervention] = field(default_factory=list)
    arms: list[Arm] = field(default_factory=list)
    min_age: str | None = None
    max_age: str | None = None
    sex: str | None = None
    countries: list[str] = field(default_factory=list)
    primary_outcomes: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def phase_text(self) -> str | None:
        return "|".join(p for p in PHASE_ORDER if p in self.phases) or None


# --------------------------------------------------------------------------
# Value reading


def text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def iso_date(value: str | None) -> str | None:
    """ "2019-08-17", "2019-08", "August 17, 2019", "August 2019" -> ISO with the same precision."""
    s = text(value)
    if s is None:
        return None
    if re.fullmatch(r"\d{4}(-\d{2}){0,2}", s):
        return s
    m = re.fullmatch(r"([A-Z][a-z]+) (\d{1,2}), (\d{4})", s)
    if m:
        return date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2))).isoformat()
    m = re.fullmatch(r"([A-Z][a-z]+) (\d{4})", s)
    if m:
        return f"{m.group(2)}-{MONTHS[m.group(1)]:02d}"
    raise KeyError(f"date spelling {s!r}")


def age_text(value: str | None) -> str | None:
    """ "18 Years", "1 Year", "6 months" -> the registered age as trialkg writes it ("1 Years")."""
    s = text(value)
    if s is None or s.upper() in ("N/A", "NONE"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?) ?([A-Za-z]+?)s?", s)
    if not m:
        raise KeyError(f"age spelling {s!r}")
    number = float(m.group(1))
    shown = str(int(number)) if number.is_integer() else m.group(1)
    return f"{shown} {m.group(2).capitalize()}s"


def mesh_id(value: str) -> str:
    """Registry MeSH UI, zero-padding normalised (D000011565 -> D011565)."""
    letter, digits = value.strip()[0].upper(), value.strip()[1:]
    width = 6 if letter == "D" or len(digits) <= 6 else 9
    return f"{letter}{int(digits):0{width}d}"


def slug(name: str) -> str:
    """An organisation's identity: its name without accents, case or punctuation."""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"['’`]", "", s)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def sponsor_name(value: Any) -> str | None:
    """A lead sponsor's name; withheld records say "[Redacted]", which names no one."""
    s = text(value)
    return None if s is None or s.lower() == "[redacted]" else s


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------
# The three record formats


def read_v2(path: Path) -> Record:
    study = json.loads(path.read_bytes())
    ps = study["protocolSection"]
    st = ps.get("statusModule") or {}
    design = ps.get("designModule") or {}
    info = design.get("designInfo") or {}
    arms = ps.get("armsInterventionsModule") or {}
    elig = ps.get("eligibilityModule") or {}
    derived = study.get("derivedSection") or {}
    cond = derived.get("conditionBrowseModule") or {}
    lead = (ps.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}
    rec = Record(
        nct=ps["identificationModule"]["nctId"],
        format="ctgov-v2-json",
        file=path.name,
        title=text(ps["identificationModule"].get("briefTitle")),
        status=text(st.get("overallStatus")),
        last_known_status=text(st.get("lastKnownStatus")),
        phases=set(design.get("phases") or []),
        study_type=text(design.get("studyType")),
        allocation=text(info.get("allocation")),
        masking=text((info.get("maskingInfo") or {}).get("masking")),
        model=text(info.get("interventionModel")),
        enrollment=(design.get("enrollmentInfo") or {}).get("count"),
        start=iso_date((st.get("startDateStruct") or {}).get("date")),
        completion=iso_date((st.get("completionDateStruct") or {}).get("date")),
        results=bool(study.get("hasResults")),
        results_posted=iso_date((st.get("resultsFirstPostDateStruct") or {}).get("date")),
        last_update=iso_date((st.get("lastUpdatePostDateStruct") or {}).get("date")),
        sponsor=(name, text(lead.get("class"))) if (name := sponsor_name(lead.get("name"))) else None,
        conditions=dedupe(t for c in (ps.get("conditionsModule") or {}).get("conditions") or [] if (t := text(c))),
        mesh={mesh_id(m["id"]) for m in cond.get("meshes") or []},
        mesh_ancestors={mesh_id(m["id"]) for m in cond.get("ancestors") or []},
        interventions=[
            Intervention(
                iv["name"].strip(),
                text(iv.get("type")),
                dedupe(t for x in iv.get("otherNames") or [] if (t := text(x))),
                dedupe(t for x in iv.get("armGroupLabels") or [] if (t := text(x))),
            )
            for iv in arms.get("interventions") or []
            if text(iv.get("name"))
        ],
        arms=[
            Arm(
                a["label"].strip(),
                text(a.get("type")),
                dedupe(t for x in a.get("interventionNames") or [] if (t := text(x))),
            )
            for a in arms.get("armGroups") or []
            if text(a.get("label"))
        ],
        min_age=age_text(elig.get("minimumAge")),
        max_age=age_text(elig.get("maximumAge")),
        sex=text(elig.get("sex")),
        countries=[
            c
            for loc in (ps.get("contactsLocationsModule") or {}).get("locations") or []
            if (c := text(loc.get("country")))
        ],
        primary_outcomes=[
            (o["measure"].strip(), text(o.get("timeFrame")))
            for o in (ps.get("outcomesModule") or {}).get("primaryOutcomes") or []
            if text(o.get("measure"))
        ],
    )
    return rec


def _lst(d: dict[str, Any], *keys: str) -> list[Any]:
    cur: Any = d
    for k in keys:
        cur = (cur or {}).get(k)
    return list(cur or [])


def read_classic(path: Path) -> Record:
    study = json.loads(path.read_bytes())
    study = study.get("FullStudy", {}).get("Study", study)
    ps = study["ProtocolSection"]
    st = ps.get("StatusModule") or {}
    design = ps.get("DesignModule") or {}
    info = design.get("DesignInfo") or {}
    arms = ps.get("ArmsInterventionsModule") or {}
    elig = ps.get("EligibilityModule") or {}
    cond = (study.get("DerivedSection") or {}).get("ConditionBrowseModule") or {}
    lead = (ps.get("SponsorCollaboratorsModule") or {}).get("LeadSponsor") or {}
    count = (design.get("EnrollmentInfo") or {}).get("EnrollmentCount")
    return Record(
        nct=ps["IdentificationModule"]["NCTId"],
        format="ctgov-classic-json",
        file=path.name,
        title=text(ps["IdentificationModule"].get("BriefTitle")),
        status=STATUS[st["OverallStatus"]] if text(st.get("OverallStatus")) else None,
        last_known_status=STATUS[st["LastKnownStatus"]] if text(st.get("LastKnownStatus")) else None,
        phases={PHASE[p] for p in _lst(design, "PhaseList", "Phase")},
        study_type=STUDY_TYPE[design["StudyType"]] if text(design.get("StudyType")) else None,
        allocation=ALLOCATION[info["DesignAllocation"]] if text(info.get("DesignAllocation")) else None,
        masking=MASKING[m] if (m := text((info.get("DesignMaskingInfo") or {}).get("DesignMasking"))) else None,
        model=MODEL[info["DesignInterventionModel"]] if text(info.get("DesignInterventionModel")) else None,
        enrollment=int(count) if text(count) else None,
        start=iso_date((st.get("StartDateStruct") or {}).get("StartDate")),
        completion=iso_date((st.get("CompletionDateStruct") or {}).get("CompletionDate")),
        results=bool(st.get("ResultsFirstPostDateStruct"))
        or any((study.get("ResultsSection") or {}).get(m) for m in RESULTS_MODULES),
        results_posted=iso_date((st.get("ResultsFirstPostDateStruct") or {}).get("ResultsFirstPostDate")),
        last_update=iso_date((st.get("LastUpdatePostDateStruct") or {}).get("LastUpdatePostDate")),
        sponsor=(name, text(lead.get("LeadSponsorClass")))
        if (name := sponsor_name(lead.get("LeadSponsorName")))
        else None,
        conditions=dedupe(t for c in _lst(ps, "ConditionsModule", "ConditionList", "Condition") if (t := text(c))),
        mesh={mesh_id(m["ConditionMeshId"]) for m in _lst(cond, "ConditionMeshList", "ConditionMesh")},
        mesh_ancestors={
            mesh_id(m["ConditionAncestorId"]) for m in _lst(cond, "ConditionAncestorList", "ConditionAncestor")
        },
        interventions=[
            Intervention(
                iv["InterventionName"].strip(),
                INTERVENTION_TYPE[iv["InterventionType"]] if text(iv.get("InterventionType")) else None,
                dedupe(t for x in _lst(iv, "InterventionOtherNameList", "InterventionOtherName") if (t := text(x))),
                dedupe(
                    t for x in _lst(iv, "InterventionArmGroupLabelList", "InterventionArmGroupLabel") if (t := text(x))
                ),
            )
            for iv in _lst(arms, "InterventionList", "Intervention")
            if text(iv.get("InterventionName"))
        ],
        arms=[
            Arm(
                a["ArmGroupLabel"].strip(),
                ARM_TYPE[a["ArmGroupType"]] if text(a.get("ArmGroupType")) else None,
                dedupe(t for x in _lst(a, "ArmGroupInterventionList", "ArmGroupInterventionName") if (t := text(x))),
            )
            for a in _lst(arms, "ArmGroupList", "ArmGroup")
            if text(a.get("ArmGroupLabel"))
        ],
        min_age=age_text(elig.get("MinimumAge")),
        max_age=age_text(elig.get("MaximumAge")),
        sex=SEX[elig["Gender"]] if text(elig.get("Gender")) else None,
        countries=[
            c
            for loc in _lst(ps, "ContactsLocationsModule", "LocationList", "Location")
            if (c := text(loc.get("LocationCountry")))
        ],
        primary_outcomes=[
            (o["PrimaryOutcomeMeasure"].strip(), text(o.get("PrimaryOutcomeTimeFrame")))
            for o in _lst(ps, "OutcomesModule", "PrimaryOutcomeList", "PrimaryOutcome")
            if text(o.get("PrimaryOutcomeMeasure"))
        ],
    )


def read_xml(path: Path) -> Record:
    root = ET.parse(path).getroot()

    def get(p: str) -> str | None:
        return text(root.findtext(p))

    phase = get("phase")
    masking = get("study_design_info/masking")
    cls = get("sponsors/lead_sponsor/agency_class")
    enrollment = get("enrollment")
    return Record(
        nct=get("id_info/nct_id") or "",
        format="ctgov-xml",
        file=path.name,
        title=get("brief_title"),
        status=STATUS[s] if (s := get("overall_status")) else None,
        last_known_status=STATUS[s] if (s := get("last_known_status")) else None,
        phases={PHASE[p.strip()] for p in phase.split("/")}
        if phase and phase != "N/A"
        else ({"NA"} if phase else set()),
        study_type=STUDY_TYPE[s] if (s := get("study_type")) else None,
        allocation=ALLOCATION[s] if (s := get("study_design_info/allocation")) else None,
        masking=MASKING[masking.split(" (")[0] if not masking.startswith("None") else masking] if masking else None,
        model=MODEL[s] if (s := get("study_design_info/intervention_model")) else None,
        enrollment=int(enrollment) if enrollment else None,
        start=iso_date(get("start_date")),
        completion=iso_date(get("completion_date")),
        results=root.find("clinical_results") is not None or get("results_first_posted") is not None,
        results_posted=iso_date(get("results_first_posted")),
        last_update=iso_date(get("last_update_posted")),
        sponsor=(name, AGENCY_CLASS[cls] if cls else None)
        if (name := sponsor_name(get("sponsors/lead_sponsor/agency")))
        else None,
        conditions=dedupe(t for e in root.findall("condition") if (t := text(e.text))),
        interventions=[
            Intervention(
                text(e.findtext("intervention_name")) or "",
                INTERVENTION_TYPE[t] if (t := text(e.findtext("intervention_type"))) else None,
                dedupe(t for x in e.findall("other_name") if (t := text(x.text))),
                dedupe(t for x in e.findall("arm_group_label") if (t := text(x.text))),
            )
            for e in root.findall("intervention")
            if text(e.findtext("intervention_name"))
        ],
        arms=[
            Arm(
                text(e.findtext("arm_group_label")) or "",
                ARM_TYPE[t] if (t := text(e.findtext("arm_group_type"))) else None,
            )
            for e in root.findall("arm_group")
            if text(e.findtext("arm_group_label"))
        ],
        min_age=age_text(get("eligibility/minimum_age")),
        max_age=age_text(get("eligibility/maximum_age")),
        sex=SEX[s] if (s := get("eligibility/gender")) else None,
        countries=[c for e in root.findall("location") if (c := text(e.findtext("facility/address/country")))],
        primary_outcomes=[
            (text(e.findtext("measure")) or "", text(e.findtext("time_frame")))
            for e in root.findall("primary_outcome")
            if text(e.findtext("measure"))
        ],
    )


READERS = {"ctgov-v2-json": read_v2, "ctgov-classic-json": read_classic, "ctgov-xml": read_xml}
SUFFIX = {"ctgov-v2-json": ".json", "ctgov-classic-json": ".json", "ctgov-xml": ".xml"}


def read_records(folders: dict[str, Path]) -> list[Record]:
    """Every record in ``folders`` (format name -> folder of that format's files)."""
    out = []
    for fmt, folder in sorted(folders.items()):
        for path in sorted(folder.glob("*" + SUFFIX[fmt])):
            out.append(READERS[fmt](path))
    return out


# --------------------------------------------------------------------------
# Arms and interventions as the registry links them


def _strip_type_prefix(name: str) -> str:
    """An arm's intervention name without its type ("Drug: Placebo" -> "Placebo")."""
    head, sep, rest = name.partition(": ")
    if sep and head.replace(" ", "").replace("/", "").isalpha() and len(head) <= 25:
        return rest
    return name


def arm_interventions(rec: Record, arm: Arm) -> list[int]:
    """Indexes (into ``rec.interventions``) of the interventions an arm gives, linked as the
    registry states it from either side: the arm names the intervention ("Drug: Placebo"
    or "Placebo", any letter case), or the intervention names the arm among its arm
    groups. An arm's "Type: Name" is the intervention of that type and name, else the
    first one of that name; two interventions of the same type and name are the first."""
    first: dict[str, int] = {}
    typed: dict[tuple[str, str], int] = {}
    for i, iv in enumerate(rec.interventions):
        first.setdefault(iv.name.casefold(), i)
        if iv.type is not None:
            typed.setdefault((iv.type, iv.name.casefold()), i)
    out: set[int] = set()
    for n in arm.intervention_names:
        bare = _strip_type_prefix(n)
        code = n[: len(n) - len(bare) - 2].upper().replace(" ", "_") if bare != n else None
        i = typed.get((code, bare.casefold())) if code is not None else None
        if i is None:
            i = first.get(bare.casefold())
        if i is None:
            i = first.get(n.casefold())
        if i is not None:
            out.add(i)
    for i, iv in enumerate(rec.interventions):
        if arm.label.casefold() in {x.casefold() for x in iv.arm_labels}:
            out.add(i)
    return sorted(out)


# --------------------------------------------------------------------------
# Vocabularies, from their quads


class Vocabulary:
    """Labels and the broader hierarchy of the vocabulary graphs (their SKOS quads)."""

    def __init__(self, quads: Iterable[ox.Quad]) -> None:
        self.labels: dict[str, set[tuple[str, str]]] = defaultdict(set)  # lower label -> (concept, graph)
        self.pref: dict[tuple[str, str], set[str]] = defaultdict(set)  # (concept, graph) -> preferred labels
        self.narrower: dict[str, set[str]] = defaultdict(set)
        for q in quads:
            p, g = q.predicate.value, q.graph_name.value
            if p in (SKOS + "prefLabel", SKOS + "altLabel"):
                self.labels[q.object.value.lower()].add((q.subject.value, g))
                if p == SKOS + "prefLabel":
                    self.pref[(q.subject.value, g)].add(q.object.value)
            elif p == SKOS + "broader" and isinstance(q.object, ox.NamedNode):
                self.narrower[q.object.value].add(q.subject.value)

    def below(self, concept: str) -> set[str]:
        """The concept and every concept narrower than it, at any depth."""
        seen = {concept}
        todo = [concept]
        while todo:
            for n in self.narrower.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def concepts(self, label: str) -> set[str]:
        """The concepts with this preferred or alternative label, in any letter case."""
        return {c for c, _ in self.labels.get(label.lower(), ())}


def matches_condition(rec: Record, vocab: Vocabulary, *, iris: set[str], label: str | None, exact: bool) -> bool:
    """Whether a record's conditions match a condition parameter: its registry MeSH terms
    (and, unless exact, their registry ancestors and vocabulary narrower concepts), or its
    condition names in any letter case for a label."""
    mesh = {MESH + m for m in rec.mesh}
    for iri in iris:
        wanted = {iri} if exact else vocab.below(iri)
        if mesh & wanted:
            return True
        if not exact and iri in {MESH + m for m in rec.mesh_ancestors}:
            return True
    return label is not None and label.lower() in {c.lower() for c in rec.conditions}
