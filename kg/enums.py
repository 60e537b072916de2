"""Source-neutral enumerations, spelled as in the ClinicalTrials.gov API v2.

Every parser maps its own display values onto these members with :func:`coerce`,
so "Phase 1", "PHASE1" and "Phase I" all become :attr:`Phase.PHASE1` whatever
the source format. The alias tables below hold the display spellings used by
the classic API, the legacy XML and the registry-mirror sites.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Status(StrEnum):
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    COMPLETED = "COMPLETED"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    WITHDRAWN = "WITHDRAWN"
    AVAILABLE = "AVAILABLE"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING"
    WITHHELD = "WITHHELD"
    UNKNOWN = "UNKNOWN"


class Phase(StrEnum):
    NA = "NA"
    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"


class StudyType(StrEnum):
    INTERVENTIONAL = "INTERVENTIONAL"
    OBSERVATIONAL = "OBSERVATIONAL"
    EXPANDED_ACCESS = "EXPANDED_ACCESS"


class DateType(StrEnum):
    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"


class EnrollmentType(StrEnum):
    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"


class Allocation(StrEnum):
    RANDOMIZED = "RANDOMIZED"
    NON_RANDOMIZED = "NON_RANDOMIZED"
    NA = "NA"


class InterventionModel(StrEnum):
    SINGLE_GROUP = "SINGLE_GROUP"
    PARALLEL = "PARALLEL"
    CROSSOVER = "CROSSOVER"
    FACTORIAL = "FACTORIAL"
    SEQUENTIAL = "SEQUENTIAL"


class PrimaryPurpose(StrEnum):
    TREATMENT = "TREATMENT"
    PREVENTION = "PREVENTION"
    DIAGNOSTIC = "DIAGNOSTIC"
    ECT = "ECT"
    SUPPORTIVE_CARE = "SUPPORTIVE_CARE"
    SCREENING = "SCREENING"
    HEALTH_SERVICES_RESEARCH = "HEALTH_SERVICES_RESEARCH"
    BASIC_SCIENCE = "BASIC_SCIENCE"
    DEVICE_FEASIBILITY = "DEVICE_FEASIBILITY"
    OTHER = "OTHER"


class Masking(StrEnum):
    NONE = "NONE"
    SINGLE = "SINGLE"
    DOUBLE = "DOUBLE"
    TRIPLE = "TRIPLE"
    QUADRUPLE = "QUADRUPLE"


class WhoMasked(StrEnum):
    PARTICIPANT = "PARTICIPANT"
    CARE_PROVIDER = "CARE_PROVIDER"
    INVESTIGATOR = "INVESTIGATOR"
    OUTCOMES_ASSESSOR = "OUTCOMES_ASSESSOR"


class ObservationalModel(StrEnum):
    COHORT = "COHORT"
    CASE_CONTROL = "CASE_CONTROL"
    CASE_ONLY = "CASE_ONLY"
    CASE_CROSSOVER = "CASE_CROSSOVER"
    ECOLOGIC_OR_COMMUNITY = "ECOLOGIC_OR_COMMUNITY"
    FAMILY_BASED = "FAMILY_BASED"
    DEFINED_POPULATION = "DEFINED_POPULATION"
    NATURAL_HISTORY = "NATURAL_HISTORY"
    OTHER = "OTHER"


class TimePerspective(StrEnum):
    RETROSPECTIVE = "RETROSPECTIVE"
    PROSPECTIVE = "PROSPECTIVE"
    CROSS_SECTIONAL = "CROSS_SECTIONAL"
    OTHER = "OTHER"


class InterventionType(StrEnum):
    BEHAVIORAL = "BEHAVIORAL"
    BIOLOGICAL = "BIOLOGICAL"
    COMBINATION_PRODUCT = "COMBINATION_PRODUCT"
    DEVICE = "DEVICE"
    DIAGNOSTIC_TEST = "DIAGNOSTIC_TEST"
    DIETARY_SUPPLEMENT = "DIETARY_SUPPLEMENT"
    DRUG = "DRUG"
    GENETIC = "GENETIC"
    PROCEDURE = "PROCEDURE"
    RADIATION = "RADIATION"
    OTHER = "OTHER"


class ArmType(StrEnum):
    EXPERIMENTAL = "EXPERIMENTAL"
    ACTIVE_COMPARATOR = "ACTIVE_COMPARATOR"
    PLACEBO_COMPARATOR = "PLACEBO_COMPARATOR"
    SHAM_COMPARATOR = "SHAM_COMPARATOR"
    NO_INTERVENTION = "NO_INTERVENTION"
    OTHER = "OTHER"


class Sex(StrEnum):
    ALL = "ALL"
    FEMALE = "FEMALE"
    MALE = "MALE"


class AgencyClass(StrEnum):
    NIH = "NIH"
    FED = "FED"
    OTHER_GOV = "OTHER_GOV"
    INDIV = "INDIV"
    INDUSTRY = "INDUSTRY"
    NETWORK = "NETWORK"
    AMBIG = "AMBIG"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class OfficialRole(StrEnum):
    STUDY_CHAIR = "STUDY_CHAIR"
    STUDY_DIRECTOR = "STUDY_DIRECTOR"
    PRINCIPAL_INVESTIGATOR = "PRINCIPAL_INVESTIGATOR"
    SUB_INVESTIGATOR = "SUB_INVESTIGATOR"


class ContactRole(StrEnum):
    CONTACT = "CONTACT"
    PRINCIPAL_INVESTIGATOR = "PRINCIPAL_INVESTIGATOR"
    SUB_INVESTIGATOR = "SUB_INVESTIGATOR"
    STUDY_CHAIR = "STUDY_CHAIR"
    STUDY_DIRECTOR = "STUDY_DIRECTOR"


class LocationStatus(StrEnum):
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    COMPLETED = "COMPLETED"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    WITHDRAWN = "WITHDRAWN"
    AVAILABLE = "AVAILABLE"


class ReferenceType(StrEnum):
    BACKGROUND = "BACKGROUND"
    RESULT = "RESULT"
    DERIVED = "DERIVED"


class ResponsiblePartyType(StrEnum):
    SPONSOR = "SPONSOR"
    PRINCIPAL_INVESTIGATOR = "PRINCIPAL_INVESTIGATOR"
    SPONSOR_INVESTIGATOR = "SPONSOR_INVESTIGATOR"


class AgeUnit(StrEnum):
    YEARS = "Years"
    MONTHS = "Months"
    WEEKS = "Weeks"
    DAYS = "Days"
    HOURS = "Hours"
    MINUTES = "Minutes"


class CellOrigin(StrEnum):
    """Donor relation of a cell therapy product."""

    AUTOLOGOUS = "AUTOLOGOUS"
    ALLOGENEIC = "ALLOGENEIC"


class DoseBasis(StrEnum):
    """What a stated dose is per: body weight (per kg) or body surface area (per m²)."""

    BODY_WEIGHT = "BODY_WEIGHT"
    BODY_SURFACE_AREA = "BODY_SURFACE_AREA"


class DoseQualifier(StrEnum):
    """A word before a stated dose that makes it a limit or an estimate: "up to 2 million
    cells/kg" (AT_MOST), "a minimum dose of 5 mg/day" (AT_LEAST), "approximately 1 x 10^6
    cells/kg" (APPROXIMATELY)."""

    AT_MOST = "AT_MOST"
    AT_LEAST = "AT_LEAST"
    APPROXIMATELY = "APPROXIMATELY"


class SourceFormat(StrEnum):
    CTGOV_V2_JSON = "ctgov-v2-json"
    CTGOV_CLASSIC_JSON = "ctgov-classic-json"
    CTGOV_XML = "ctgov-xml"
    VEEVA_PAGE = "veeva-page"
    BASIC_INFO_PAGE = "basic-info-page"
    IGNITE_PAGE = "ignite-page"


class LinkMethod(StrEnum):
    """How a vocabulary link was made."""

    REGISTRY = "REGISTRY"  # the registry's own derived MeSH indexing
    EXACT = "EXACT"  # normalised text equals a preferred name
    SYNONYM = "SYNONYM"  # normalised text equals an entry term / synonym
    CURATED = "CURATED"  # trialkg's curated vocabulary (abbreviations, cell sources)
    PATTERN = "PATTERN"  # a curated pattern found inside a longer name or description


# --------------------------------------------------------------------------
# Display-value aliases. Keys are normalised with :func:`_key`.

_ALIASES: dict[type[StrEnum], dict[str, str]] = {
    Status: {
        "active not recruiting": "ACTIVE_NOT_RECRUITING",
        "active, not recruiting": "ACTIVE_NOT_RECRUITING",
        "enrolling by invitation": "ENROLLING_BY_INVITATION",
        "not yet recruiting": "NOT_YET_RECRUITING",
        "no longer available": "NO_LONGER_AVAILABLE",
        "temporarily not available": "TEMPORARILY_NOT_AVAILABLE",
        "approved for marketing": "APPROVED_FOR_MARKETING",
        "unknown status": "UNKNOWN",
    },
    Phase: {
        "n/a": "NA",
        "not applicable": "NA",
        "early phase 1": "EARLY_PHASE1",
        "early phase i": "EARLY_PHASE1",
        "phase 0": "EARLY_PHASE1",
        "phase 1": "PHASE1",
        "phase i": "PHASE1",
        "phase 2": "PHASE2",
        "phase ii": "PHASE2",
        "phase 3": "PHASE3",
        "phase iii": "PHASE3",
        "phase 4": "PHASE4",
        "phase iv": "PHASE4",
    },
    StudyType: {
        "expanded access": "EXPANDED_ACCESS",
        "observational patient registry": "OBSERVATIONAL",
        "observational [patient registry]": "OBSERVATIONAL",
        "interventional (clinical trial)": "INTERVENTIONAL",
    },
    DateType: {"anticipated": "ESTIMATED", "expected": "ESTIMATED", "estimate": "ESTIMATED"},
    EnrollmentType: {"anticipated": "ESTIMATED", "expected": "ESTIMATED", "estimate": "ESTIMATED"},
    Allocation: {
        "non-randomized": "NON_RANDOMIZED",
        "nonrandomized": "NON_RANDOMIZED",
        "non randomized": "NON_RANDOMIZED",
        "n/a": "NA",
        "not applicable": "NA",
    },
    InterventionModel: {
        "single group assignment": "SINGLE_GROUP",
        "single group": "SINGLE_GROUP",
        "parallel assignment": "PARALLEL",
        "crossover assignment": "CROSSOVER",
        "factorial assignment": "FACTORIAL",
        "sequential assignment": "SEQUENTIAL",
    },
    PrimaryPurpose: {
        "supportive care": "SUPPORTIVE_CARE",
        "health services research": "HEALTH_SERVICES_RESEARCH",
        "basic science": "BASIC_SCIENCE",
        "device feasibility": "DEVICE_FEASIBILITY",
        "educational/counseling/training": "ECT",
        "educational counseling training": "ECT",
    },
    Masking: {
        "none (open label)": "NONE",
        "open label": "NONE",
        "none": "NONE",
        "single blind": "SINGLE",
        "double blind": "DOUBLE",
        "triple blind": "TRIPLE",
        "quadruple blind": "QUADRUPLE",
        "single-blind": "SINGLE",
        "double-blind": "DOUBLE",
        "triple-blind": "TRIPLE",
        "quadruple-blind": "QUADRUPLE",
    },
    WhoMasked: {
        "care provider": "CARE_PROVIDER",
        "outcomes assessor": "OUTCOMES_ASSESSOR",
        "subject": "PARTICIPANT",
        "caregiver": "CARE_PROVIDER",
        "outcome assessor": "OUTCOMES_ASSESSOR",
    },
    ObservationalModel: {
        "case-control": "CASE_CONTROL",
        "case control": "CASE_CONTROL",
        "case-only": "CASE_ONLY",
        "case only": "CASE_ONLY",
        "case-crossover": "CASE_CROSSOVER",
        "ecologic or community": "ECOLOGIC_OR_COMMUNITY",
        "family-based": "FAMILY_BASED",
        "defined population": "DEFINED_POPULATION",
        "natural history": "NATURAL_HISTORY",
    },
    TimePerspective: {"cross-sectional": "CROSS_SECTIONAL", "cross sectional": "CROSS_SECTIONAL"},
    InterventionType: {
        "biological": "BIOLOGICAL",
        "biologic": "BIOLOGICAL",
        "combination product": "COMBINATION_PRODUCT",
        "diagnostic test": "DIAGNOSTIC_TEST",
        "dietary supplement": "DIETARY_SUPPLEMENT",
        "genetic": "GENETIC",
        "gene transfer": "GENETIC",
        "procedure/surgery": "PROCEDURE",
        "biological/vaccine": "BIOLOGICAL",
    },
    ArmType: {
        "experimental group": "EXPERIMENTAL",
        "active comparator": "ACTIVE_COMPARATOR",
        "active comparator group": "ACTIVE_COMPARATOR",
        "placebo comparator": "PLACEBO_COMPARATOR",
        "placebo comparator group": "PLACEBO_COMPARATOR",
        "placebo group": "PLACEBO_COMPARATOR",
        "sham comparator": "SHAM_COMPARATOR",
        "sham comparator group": "SHAM_COMPARATOR",
        "no intervention": "NO_INTERVENTION",
        "no intervention group": "NO_INTERVENTION",
        "other group": "OTHER",
        "active comparator arm": "ACTIVE_COMPARATOR",
    },
    Sex: {"both": "ALL", "female only": "FEMALE", "male only": "MALE"},
    AgencyClass: {
        "u.s. fed": "FED",
        "us fed": "FED",
        "other u.s. federal agency": "FED",
        "u.s. federal agency": "FED",
        "other government": "OTHER_GOV",
        "other gov": "OTHER_GOV",
        "individual": "INDIV",
    },
    OfficialRole: {
        "study chair": "STUDY_CHAIR",
        "study director": "STUDY_DIRECTOR",
        "principal investigator": "PRINCIPAL_INVESTIGATOR",
        "sub-investigator": "SUB_INVESTIGATOR",
        "sub investigator": "SUB_INVESTIGATOR",
    },
    ContactRole: {
        "primary": "CONTACT",
        "backup": "CONTACT",
        "principal investigator": "PRINCIPAL_INVESTIGATOR",
        "sub-investigator": "SUB_INVESTIGATOR",
        "study chair": "STUDY_CHAIR",
        "study director": "STUDY_DIRECTOR",
    },
    ReferenceType: {"background": "BACKGROUND", "result": "RESULT", "derived": "DERIVED"},
    ResponsiblePartyType: {
        "principal investigator": "PRINCIPAL_INVESTIGATOR",
        "sponsor-investigator": "SPONSOR_INVESTIGATOR",
        "sponsor investigator": "SPONSOR_INVESTIGATOR",
    },
    AgeUnit: {
        "year": "Years",
        "years": "Years",
        "month": "Months",
        "months": "Months",
        "week": "Weeks",
        "weeks": "Weeks",
        "day": "Days",
        "days": "Days",
        "hour": "Hours",
        "hours": "Hours",
        "minute": "Minutes",
        "minutes": "Minutes",
    },
}
# Location (site) statuses share the overall status vocabulary's display spellings.
_ALIASES[LocationStatus] = _ALIASES[Status]

_SPACE = re.compile(r"[\s_]+")


def _key(text: str) -> str:
    return _SPACE.sub(" ", text.strip().lower())


class UnknownValue(ValueError):
    """A display value that is not in an enumeration's value set."""

    def __init__(self, enum: type[StrEnum], value: str) -> None:
        super().__init__(f"{value!r} is not a known {enum.__name__} value")
        self.enum = enum
        self.value = value


def coerce(enum: type[E], value: str | None) -> E | None:
    """Map a v2 code or a display spelling onto ``enum``.

    Returns ``None`` for ``None`` and empty strings. Raises :class:`UnknownValue`
    for anything else that is not in the value set, so that a parser can report
    the field instead of inventing a value.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    members = enum.__members__
    upper = text.upper()
    if upper in members:
        return members[upper]
    code = _SPACE.sub("_", upper).replace(",", "").replace("-", "_")
    if code in members:
        return members[code]
    alias = _ALIASES.get(enum, {}).get(_key(text))
    if alias is not None:
        return enum(alias)
    raise UnknownValue(enum, value)


_PHASE_SPLIT = re.compile(r"\s*(?:/|\||,|;|\band\b)\s*", re.IGNORECASE)


def parse_phases(value: str | None) -> list[Phase]:
    """Parse a phase display such as "Phase 1/Phase 2", "PHASE1/PHASE2" or
    "Phase 2 / Phase 1" into sorted, de-duplicated phases."""
    if value is None or not value.strip():
        return []
    try:  # a whole spelling that contains a separator, such as "N/A"
        whole = coerce(Phase, value)
    except UnknownValue:
        pass
    else:
        return [whole] if whole is not None else []
    found: set[Phase] = set()
    for part in _PHASE_SPLIT.split(value.strip()):
        if not part:
            continue
        phase = coerce(Phase, part)
        if phase is not None:
            found.add(phase)
    return sort_phases(found)


_PHASE_ORDER = {p: i for i, p in enumerate(Phase)}


def sort_phases(phases: set[Phase] | list[Phase]) -> list[Phase]:
    return sorted(set(phases), key=_PHASE_ORDER.__getitem__)
