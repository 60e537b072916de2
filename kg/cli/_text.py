"""Plain-text rendering of a trial record for ``trialkg show``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kg.terms import curie


def trial_text(rec: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append

    def field(label: str, value: Any) -> None:
        if value not in (None, [], {}, ""):
            add(f"{label + ':':<22}{value}")

    add(f"{rec['nct_id']}  {rec.get('brief_title') or ''}")
    field("Official title", rec.get("official_title"))
    field("Status", rec.get("status"))
    field("Last known status", rec.get("last_known_status"))
    field("Phases", ", ".join(rec.get("phases") or []))
    field("Study type", rec.get("study_type"))
    en = rec.get("enrollment") or {}
    if en.get("count") is not None:
        field("Enrollment", f"{en['count']} {en.get('type') or ''}".strip())
    field("Start", " ".join(x for x in (rec.get("start_date"), rec.get("start_date_type")) if x))
    field("Completion", " ".join(x for x in (rec.get("completion_date"), rec.get("completion_date_type")) if x))
    sp = rec.get("sponsor") or {}
    if sp:
        field("Sponsor", f"{sp.get('name')} ({sp.get('class') or 'class unknown'})")
    for c in rec.get("collaborators") or []:
        field("Collaborator", f"{c.get('name')} ({c.get('class') or 'class unknown'})")
    field("Allocation", rec.get("allocation"))
    field("Intervention model", rec.get("intervention_model"))
    field("Primary purpose", rec.get("primary_purpose"))
    field("Masking", rec.get("masking"))
    if rec.get("conditions"):
        add("Conditions:")
        for c in rec["conditions"]:
            links = ", ".join(curie(x) for x in c["links"])
            extra = " [cell type]" if c.get("is_cell_type") else ""
            extra += " [split uncertain]" if c.get("split_uncertain") else ""
            add(f"  - {c['name']}{extra}" + (f"  -> {links}" if links else ""))
    if rec.get("keyword_links"):
        add("Keyword links (made from keywords, not from a condition):")
        for k in rec["keyword_links"]:
            add(f"  - {k.get('matched') or '?'}  -> {curie(k['iri'])} ({k.get('method') or '?'})")
    if rec.get("interventions"):
        add("Interventions:")
        for i in rec["interventions"]:
            links = ", ".join(curie(x) for x in i["links"])
            add(f"  - {i.get('type') or '?'}: {i['name']}" + (f"  -> {links}" if links else ""))
            ct = i.get("cell_therapy")
            if ct:
                parts = [
                    ", ".join(curie(x) for x in ct["cell_types"]),
                    ", ".join(curie(x) for x in ct["source_tissues"]),
                ]
                add(f"      cells: {' from '.join(p for p in parts if p)} {ct.get('origin') or ''}".rstrip())
            _doses(add, i.get("doses"))
    if rec.get("arms"):
        add("Arms:")
        for a in rec["arms"]:
            add(
                f"  - {a['label']} ({a.get('type') or '?'})"
                + (f": {', '.join(a['interventions'])}" if a["interventions"] else "")
            )
            _doses(add, a.get("doses"))
    el = rec.get("eligibility") or {}
    if el:
        field("Sex", el.get("sex"))
        field("Ages", f"{el.get('min_age') or 'no minimum'} to {el.get('max_age') or 'no maximum'}")
        field("Healthy volunteers", el.get("healthy_volunteers"))
        field("Inclusion criteria", f"{len(el.get('inclusion') or [])} items")
        field("Exclusion criteria", f"{len(el.get('exclusion') or [])} items")
    countries = sorted({loc["country"] for loc in rec.get("locations") or [] if loc.get("country")})
    field("Countries", ", ".join(countries))
    add("Sources:")
    for s in rec.get("sources") or []:
        partial = " [partial page]" if s.get("partial") else ""
        add(f"  - {s['format']}: {s['file']} (record updated {s.get('last_update') or 'unknown'}){partial}")
        for note in s.get("notes") or []:
            add(f"      note: {note}")
    dis = rec.get("disagreements") or {}
    if dis:
        add("Sources disagree on:")
        for fieldname, values in dis.items():
            add(f"  {fieldname}:")
            for v in values:
                add(f"    {v['format']} {v['file']}: {v['value']}")
    return "\n".join(lines)


def _doses(add: Callable[[str], None], doses: list[dict[str, Any]] | None) -> None:
    """``dose: 2000000 cells/kg ("2 million cells/kg")``, a range as ``100000000-300000000``,
    a limit or an estimate as ``dose: at most 500 mg ("maximum 500 mg/dose")``, the
    substance named before it as ``dose: 40 mg/kg of <http://id.nlm.nih.gov/mesh/D015080>
    ("mesna 40 mg/kg")``."""
    for d in doses or []:
        amount = f"{d['value']}" + (f"-{d['max_value']}" if d.get("max_value") is not None else "")
        if d.get("qualifier"):
            amount = f"{d['qualifier'].lower().replace('_', ' ')} {amount}"
        of = f" of <{d['substance']}>" if d.get("substance") else ""
        add(f'      dose: {amount} {d["unit"]}{of} ("{d["text"]}")')
