"""The typed, source-neutral ``Trial`` model.

Parsers (``kg.sources.*``) return :class:`Trial` objects and nothing else; the
vocabulary linker (``kg.linking``) adds :class:`Link` objects and cell-therapy
typing; the RDF mapping (``kg.mapping``) reads a Trial and emits quads.

A field is ``None`` (or an empty list) when the source does not state it:
parsers never invent a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from kg.enums import (
    AgencyClass,
    AgeUnit,
    Allocation,
    ArmType,
    CellOrigin,
    ContactRole,
    DateType,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    LinkMethod,
    LocationStatus,
    Masking,
    ObservationalModel,
    OfficialRole,
    Phase,
    PrimaryPurpose,
    ReferenceType,
    ResponsiblePartyType,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    WhoMasked,
)

NCT_ID = re.compile(r"^NCT\d{8}$")


@dataclass(slots=True, frozen=True)
class TrialDate:
    """A date with its real precision: ``"2019-05"`` (month) or ``"2019-05-14"`` (day)."""

    iso: str
    type: DateType | None = None

    @property
    def precision(self) -> str:
        return "day" if len(self.iso) == 10 else "month" if len(self.iso) == 7 else "year"


@dataclass(slots=True, frozen=True)
class Age:
    """A minimum or maximum age, such as 18 Years."""

    value: int | float
    unit: AgeUnit

    def __str__(self) -> str:
        """As the registry writes it: "18 Years", "1 Year", "6 Months"."""
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{v} {self.unit.value[:-1] if v == 1 else self.unit.value}"

    @property
    def iso_duration(self) -> str:
        """The age as an ``xsd:duration`` in its canonical form, the one an RDF store
        that reads the value writes back (P18Y, P6M, P1Y6M for 18 months, P2W→P14D,
        PT12H, P2D for 48 hours, PT0S for zero), so the literal is the same whether it
        is read from the store or from what ingest wrote."""
        value = Decimal(str(self.value))
        match self.unit:
            case AgeUnit.YEARS | AgeUnit.MONTHS:
                months = value * 12 if self.unit is AgeUnit.YEARS else value
                if months != months.to_integral_value():
                    return f"P{_plain_decimal(value)}{'Y' if self.unit is AgeUnit.YEARS else 'M'}"  # no exact form
                years, left = divmod(int(months), 12)
                out = (f"{years}Y" if years else "") + (f"{left}M" if left else "")
                return f"P{out}" if out else "PT0S"
            case AgeUnit.WEEKS | AgeUnit.DAYS | AgeUnit.HOURS | AgeUnit.MINUTES:
                seconds = (
                    value
                    * {AgeUnit.WEEKS: 604800, AgeUnit.DAYS: 86400, AgeUnit.HOURS: 3600, AgeUnit.MINUTES: 60}[self.unit]
                )
                days, rest = divmod(seconds, 86400)
                hours, rest = divmod(rest, 3600)
                minutes, secs = divmod(rest, 60)
                time = "".join(f"{_plain_decimal(n)}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
                out = (f"{_plain_decimal(days)}D" if days else "") + (f"T{time}" if time else "")
                return f"P{out}" if out else "PT0S"
        raise ValueError(self.unit)  # pragma: no cover - exhaustive match


def _plain_decimal(d: Decimal) -> str:
    """``d`` without exponent or trailing zeros: 2, 1.5."""
    return format(d.normalize(), "f")


@dataclass(slots=True)
class Link:
    """A link from a condition or intervention to a vocabulary concept."""

    iri: str
    vocabulary: str  # "MESH", "CL", "UBERON", "CHEBI", "DRUGBANK"
    method: LinkMethod
    matched: str | None = None  # the vocabulary label or synonym that matched
    label: str | None = None  # the concept's preferred label


@dataclass(frozen=True, slots=True)
class DoseSubstance:
    """The substance a dose statement names right before its amount ("with mesna 40
    mg/kg", "Cyclophosphamide 60 mg/kg/day"): ``iri`` of the vocabulary concept,
    ``start`` and ``end``, where its name begins and ends in the text, and ``of``, the
    positions (from 0) in ``Trial.interventions`` of the interventions whose concepts it
    is, or is broader or narrower than."""

    iri: str
    start: int
    end: int
    of: tuple[int, ...] = ()


@dataclass(slots=True)
class Organization:
    name: str
    agency_class: AgencyClass | None = None


@dataclass(slots=True)
class SecondaryId:
    id: str
    type: str | None = None
    domain: str | None = None


@dataclass(slots=True)
class Condition:
    name: str
    links: list[Link] = field(default_factory=list)
    # For conditions split out of a run-together line (mirror pages): the verbatim
    # line, and whether the split could not be made with certainty.
    verbatim: str | None = None
    split_uncertain: bool = False
    # True when the "condition" names a cell type rather than a disease.
    is_cell_type: bool = False


@dataclass(slots=True)
class CellTherapy:
    """What a cell-therapy intervention is made of."""

    cell_types: list[Link] = field(default_factory=list)  # CL terms
    source_tissues: list[Link] = field(default_factory=list)  # UBERON terms
    origin: CellOrigin | None = None
    evidence: str | None = None  # the text the typing was read from


@dataclass(slots=True)
class Intervention:
    name: str
    type: InterventionType | None = None
    description: str | None = None
    other_names: list[str] = field(default_factory=list)
    arm_labels: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    cell_therapy: CellTherapy | None = None


@dataclass(slots=True)
class Arm:
    label: str
    type: ArmType | None = None
    description: str | None = None
    intervention_names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    measure: str
    time_frame: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Eligibility:
    criteria: str | None = None
    inclusion: list[str] = field(default_factory=list)
    exclusion: list[str] = field(default_factory=list)
    sex: Sex | None = None
    gender_based: bool | None = None
    min_age: Age | None = None
    max_age: Age | None = None
    healthy_volunteers: bool | None = None
    std_ages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Location:
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: LocationStatus | None = None
    # Site contacts, where the source ties them to this site (names, roles, phones).
    contacts: list[Contact] = field(default_factory=list)


@dataclass(slots=True)
class Official:
    name: str
    role: OfficialRole | None = None
    affiliation: str | None = None


@dataclass(slots=True)
class Contact:
    """A central or site contact. Phone and e-mail are personal contact details:
    the mapping writes them only when the user opts in."""

    name: str | None = None
    role: ContactRole | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(slots=True)
class Reference:
    pmid: str | None = None
    type: ReferenceType | None = None
    citation: str | None = None


@dataclass(slots=True)
class MeshTerm:
    """A registry-derived MeSH indexing term, ID normalised to D###### / C######."""

    id: str
    term: str | None = None


@dataclass(slots=True)
class ResponsibleParty:
    type: ResponsiblePartyType | None = None
    investigator_name: str | None = None
    investigator_title: str | None = None
    investigator_affiliation: str | None = None


@dataclass(slots=True)
class Source:
    """Where a Trial came from."""

    format: SourceFormat
    file: str  # file name as given (a zip member is "archive.zip!member.json")
    checksum: str  # sha256 of the record's bytes
    last_update: TrialDate | None = None  # the record's own last-update date
    partial: bool = False  # a truncated page: the trial holds only what was there
    notes: list[str] = field(default_factory=list)  # what the parser could not map


@dataclass(slots=True)
class Trial:
    nct_id: str
    source: Source
    # identification
    org_study_id: str | None = None
    secondary_ids: list[SecondaryId] = field(default_factory=list)
    nct_id_aliases: list[str] = field(default_factory=list)
    acronym: str | None = None
    brief_title: str | None = None
    official_title: str | None = None
    # status
    overall_status: Status | None = None
    last_known_status: Status | None = None
    why_stopped: str | None = None
    status_verified: TrialDate | None = None
    start_date: TrialDate | None = None
    primary_completion_date: TrialDate | None = None
    completion_date: TrialDate | None = None
    first_posted: TrialDate | None = None
    last_update_posted: TrialDate | None = None
    results_first_posted: TrialDate | None = None
    # sponsor and oversight
    sponsor: Organization | None = None
    collaborators: list[Organization] = field(default_factory=list)
    responsible_party: ResponsibleParty | None = None
    has_dmc: bool | None = None
    fda_regulated_drug: bool | None = None
    fda_regulated_device: bool | None = None
    # description
    brief_summary: str | None = None
    detailed_description: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    # MeSH disease concepts named by a whole keyword (the linker's, at trial level;
    # condition links stay on the conditions)
    keyword_links: list[Link] = field(default_factory=list)
    # The substances that intervention and arm texts name right before a dose (the
    # linker's): text -> where the dose statement begins in it (kg.dosing.Dose.start) ->
    # the substance. A dose with none here is the intervention's, or the arm's.
    dose_substances: dict[str, dict[int, DoseSubstance]] = field(default_factory=dict)
    # design
    study_type: StudyType | None = None
    phases: list[Phase] = field(default_factory=list)
    allocation: Allocation | None = None
    intervention_model: InterventionModel | None = None
    primary_purpose: PrimaryPurpose | None = None
    masking: Masking | None = None
    who_masked: list[WhoMasked] = field(default_factory=list)
    observational_model: ObservationalModel | None = None
    time_perspective: TimePerspective | None = None
    enrollment_count: int | None = None
    enrollment_type: EnrollmentType | None = None
    # arms, interventions, outcomes
    arms: list[Arm] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    primary_outcomes: list[Outcome] = field(default_factory=list)
    secondary_outcomes: list[Outcome] = field(default_factory=list)
    other_outcomes: list[Outcome] = field(default_factory=list)
    # eligibility
    eligibility: Eligibility | None = None
    # contacts and locations
    locations: list[Location] = field(default_factory=list)
    officials: list[Official] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    # references
    references: list[Reference] = field(default_factory=list)
    # registry-derived indexing
    condition_mesh: list[MeshTerm] = field(default_factory=list)
    condition_mesh_ancestors: list[MeshTerm] = field(default_factory=list)
    intervention_mesh: list[MeshTerm] = field(default_factory=list)
    intervention_mesh_ancestors: list[MeshTerm] = field(default_factory=list)
    has_results: bool | None = None
    # Registry MeSH headings given by name only, with no MeSH ID (the legacy XML's
    # <condition_browse>/<intervention_browse>): kept verbatim for the linker to resolve.
    condition_mesh_names: list[str] = field(default_factory=list)
    intervention_mesh_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not NCT_ID.match(self.nct_id):
            raise ValueError(f"not an NCT ID: {self.nct_id!r}")
