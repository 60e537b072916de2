"""Hand-written expectations for the classic-API and legacy-XML corpus tests.

The tables map the registry's display spellings to the v2 codes by hand, and the
helpers read dates and ages with the standard library, so that expected values never
come from the code under test. A display value missing here fails the test loudly
(KeyError), which is the point: a new spelling must be looked at.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from kg.model import Trial

STATUS = {
    "Active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "Approved for marketing": "APPROVED_FOR_MARKETING",
    "Available": "AVAILABLE",
    "Completed": "COMPLETED",
    "Enrolling by invitation": "ENROLLING_BY_INVITATION",
    "No longer available": "NO_LONGER_AVAILABLE",
    "Not yet recruiting": "NOT_YET_RECRUITING",
    "Recruiting": "RECRUITING",
    "Suspended": "SUSPENDED",
    "Temporarily not available": "TEMPORARILY_NOT_AVAILABLE",
    "Terminated": "TERMINATED",
    "Unknown status": "UNKNOWN",
    "Withdrawn": "WITHDRAWN",
    "Withheld": "WITHHELD",
}
PHASE = {
    "Early Phase 1": "EARLY_PHASE1",
    "Phase 1": "PHASE1",
    "Phase 2": "PHASE2",
    "Phase 3": "PHASE3",
    "Phase 4": "PHASE4",
    "Not Applicable": "NA",
    "N/A": "NA",
}
STUDY_TYPE = {
    "Interventional": "INTERVENTIONAL",
    "Observational": "OBSERVATIONAL",
    "Observational [Patient Registry]": "OBSERVATIONAL",
    "Expanded Access": "EXPANDED_ACCESS",
    "N/A": None,
}
DATE_TYPE = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", "Estimate": "ESTIMATED", "Estimated": "ESTIMATED"}
INTERVENTION_TYPE = {
    "Behavioral": "BEHAVIORAL",
    "Biological": "BIOLOGICAL",
    "Combination Product": "COMBINATION_PRODUCT",
    "Device": "DEVICE",
    "Diagnostic Test": "DIAGNOSTIC_TEST",
    "Dietary Supplement": "DIETARY_SUPPLEMENT",
    "Drug": "DRUG",
    "Genetic": "GENETIC",
    "Other": "OTHER",
    "Procedure": "PROCEDURE",
    "Radiation": "RADIATION",
}
ARM_TYPE = {
    "Experimental": "EXPERIMENTAL",
    "Active Comparator": "ACTIVE_COMPARATOR",
    "Placebo Comparator": "PLACEBO_COMPARATOR",
    "Sham Comparator": "SHAM_COMPARATOR",
    "No Intervention": "NO_INTERVENTION",
    "Other": "OTHER",
}
SEX = {"All": "ALL", "Both": "ALL", "Female": "FEMALE", "Male": "MALE"}
# The XML spells agency classes for display; the classic API already uses the codes.
AGENCY_CLASS = {"NIH": "NIH", "U.S. Fed": "FED", "Industry": "INDUSTRY", "Other": "OTHER", "Unknown": "UNKNOWN"}

_INCLUSION = re.compile(r"^\W*inclusion criteria\W*$", re.IGNORECASE | re.MULTILINE)
_EXCLUSION = re.compile(r"^\W*exclusion criteria\W*$", re.IGNORECASE | re.MULTILINE)


def sample(items: list[Any], at_least: int = 40) -> list[Any]:
    """A deterministic, evenly spread sample."""
    return items[:: max(1, len(items) // at_least)]


def date(text: str | None, type_: str | None) -> tuple[str, str | None] | None:
    """("May 2019", "Anticipated") -> ("2019-05", "ESTIMATED"); day precision kept."""
    if text is None or not text.strip():
        return None
    for fmt, width in (("%B %d, %Y", 10), ("%B %Y", 7)):
        try:
            iso = datetime.strptime(text.strip(), fmt).strftime("%Y-%m-%d")[:width]
        except ValueError:
            continue
        return iso, DATE_TYPE[type_] if type_ else None
    raise AssertionError(f"the test cannot read the date {text!r}")


def age(text: str | None) -> tuple[float, str] | None:
    """ "18 Years" -> (18, "years"); "N/A" -> None."""
    if text is None or text.strip() in ("", "N/A"):
        return None
    number, unit = text.split()
    unit = unit.lower()
    return float(number), unit if unit.endswith("s") else unit + "s"


def mesh_key(mesh_id: str) -> tuple[str, int]:
    """A MeSH UI compared without its zero padding: D000011565 and D011565 are one UI."""
    return mesh_id[0], int(mesh_id[1:])


def has_items(criteria: str | None, heading: str) -> bool:
    """True when the criteria have the heading and some text under it."""
    if not criteria:
        return False
    head, other = (_INCLUSION, _EXCLUSION) if heading == "inclusion" else (_EXCLUSION, _INCLUSION)
    m = head.search(criteria)
    if m is None:
        return False
    rest = criteria[m.end() :]
    nxt = other.search(rest)
    body = rest[: nxt.start()] if nxt else rest
    return re.search(r"[A-Za-z0-9]", body) is not None


def facts(t: Trial) -> dict[str, Any]:
    """The facts the corpus tests compare, read off a parsed Trial."""

    def dt(d: Any) -> tuple[str, str | None] | None:
        return (d.iso, d.type.value if d.type else None) if d else None

    def ag(a: Any) -> tuple[float, str] | None:
        return (float(a.value), a.unit.value.lower()) if a else None

    e = t.eligibility
    return {
        "nct_id": t.nct_id,
        "brief_title": t.brief_title,
        "official_title": t.official_title,
        "overall_status": t.overall_status.value if t.overall_status else None,
        "phases": {p.value for p in t.phases},
        "study_type": t.study_type.value if t.study_type else None,
        "enrollment_count": t.enrollment_count,
        "enrollment_type": t.enrollment_type.value if t.enrollment_type else None,
        "start": dt(t.start_date),
        "completion": dt(t.completion_date),
        "conditions": [c.name for c in t.conditions],
        "interventions": [(i.name, i.type.value if i.type else None) for i in t.interventions],
        "arms": [(a.label, a.type.value if a.type else None) for a in t.arms],
        "sponsor": (t.sponsor.name, t.sponsor.agency_class.value if t.sponsor.agency_class else None)
        if t.sponsor
        else None,
        "sex": e.sex.value if e and e.sex else None,
        "min_age": ag(e.min_age) if e else None,
        "max_age": ag(e.max_age) if e else None,
        "countries": {loc.country for loc in t.locations if loc.country},
        "pmids": {r.pmid for r in t.references if r.pmid},
        "condition_mesh": {mesh_key(m.id) for m in t.condition_mesh},
    }


def strip(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None
