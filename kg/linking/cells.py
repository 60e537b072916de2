"""Finding cell types, cell-source tissues and autologous/allogeneic cues in text,
with the curated vocabulary.

Two kinds of evidence are read:

* phrases (curated ``cell_type``, ``tissue``, ``origin`` and ``product`` terms),
  matched on normalised words, longest first, never right after a negation ("non",
  "no", "not", "without": "Non-mesenchymal stem cells" is no MSC);
* abbreviations, matched on the raw words of the text: the curated whole-word
  abbreviations (``ADSC``, ``BMSC``) and any word ending in "MSC" ("AD-MSCs",
  "hUC-MSC", "UCMSCs", "allo-hMSCs", "HB-adMSCs"), read as
  ``[origin-][h][tissue lead][M]MSC[s]``: the lead before "MSC" names the source tissue
  through the curated ``msc_prefix`` table, "h" (human) and a trailing "M"
  (multipotent) are ignored, "allo"/"auto" give the origin, and an unknown lead
  ("COVI-MSC") still means a mesenchymal stem cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.enums import CellOrigin
from kg.linking.normalise import located_words, ordered_key, words
from kg.vocab.curated import Curated

MSC = "CL:0000134"
NEGATIONS = frozenset({"non", "no", "not", "without"})

_RAW_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[^A-Za-z0-9]*$")


@dataclass(slots=True, frozen=True)
class Found:
    """One piece of evidence: the curated ID (CL/UBERON CURIE or CellOrigin name)
    and the text that showed it."""

    id: str
    surface: str


@dataclass(slots=True)
class CellEvidence:
    cell_types: list[Found] = field(default_factory=list)
    tissues: list[Found] = field(default_factory=list)
    origins: list[Found] = field(default_factory=list)
    products: list[Found] = field(default_factory=list)

    def add(self, kind: str, found: Found) -> None:
        bucket: list[Found] = getattr(self, kind)
        if all(f.id != found.id for f in bucket):
            bucket.append(found)


class CellMatcher:
    """Curated cell-type, tissue, origin and product evidence in a text."""

    def __init__(self, curated: Curated) -> None:
        self.curated = curated
        self.phrases: dict[str, tuple[str, str]] = {}  # word key -> (kind, id)
        self.max_words = 1
        for kind, target in (
            ("cell_type", "cell_types"),
            ("tissue", "tissues"),
            ("origin", "origins"),
            ("product", "products"),
        ):
            for row in curated.of_kind(kind):
                for term in row.terms:
                    ws = words(term)
                    if ws:
                        self.phrases.setdefault(ordered_key(ws), (target, row.id or kind))
                        self.max_words = max(self.max_words, len(ws))
        self.abbreviations: dict[str, tuple[str, tuple[str, ...]]] = {}  # lower -> (CL, tissues)
        for row in curated.of_kind("abbreviation"):
            for term in row.terms:
                self.abbreviations[term.lower()] = (row.id, row.refs)
        self.msc_prefixes: dict[str, str] = {}  # lower lead -> UBERON
        for row in curated.of_kind("msc_prefix"):
            for term in row.terms:
                self.msc_prefixes[term.lower().replace("-", "")] = row.id
        self.origin_prefixes: dict[str, str] = {}
        for row in curated.of_kind("origin_prefix"):
            for term in row.terms:
                self.origin_prefixes[term.lower()] = row.id

    def find(self, text: str) -> CellEvidence:
        ev = CellEvidence()
        located = located_words(text)
        ws = tuple(w for w, _, _ in located)
        i = 0
        while i < len(ws):
            for n in range(min(self.max_words, len(ws) - i), 0, -1):
                hit = self.phrases.get(ordered_key(ws[i : i + n]))
                if hit is None:
                    continue
                # "non-mesenchymal stem cells", "without UC-MSCs": none (the negation may stand
                # before the chunk the phrase ends, as "without" before "UC-" of "UC-MSCs")
                j = i
                while j > 0 and (located[j - 1][1] == located[j][1] or text[located[j - 1][2] : located[j][1]] == "-"):
                    j -= 1
                if not (i > 0 and ws[i - 1] in NEGATIONS) and not (j > 0 and ws[j - 1] in NEGATIONS):
                    kind, ident = hit
                    ev.add(kind, Found(ident, text[located[i][1] : located[i + n - 1][2]]))
                i += n
                break
            else:
                i += 1
        self._abbreviations(text, ev)
        return ev

    def _abbreviations(self, text: str, ev: CellEvidence) -> None:
        for m in _RAW_WORD.finditer(text):
            raw = m.group(0).strip("-'’")
            token = re.sub(r"(?:['’]s|s)$", "", raw)
            low = token.lower()
            if low not in self.abbreviations and not low.endswith("msc"):
                continue
            before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start())
            if before is not None and before.group(1).lower() in NEGATIONS:
                continue  # "solution without UC-MSCs"
            if low in self.abbreviations:
                cl, tissues = self.abbreviations[low]
                ev.add("cell_types", Found(cl, raw))
                for t in tissues:
                    ev.add("tissues", Found(t, raw))
                continue
            segments = [s for s in low[:-3].split("-") if s]
            if segments and segments[0] in NEGATIONS:
                continue
            rest: list[str] = []
            for seg in segments:
                prefix = next((p for p in self.origin_prefixes if seg.startswith(p)), None)
                if prefix is not None:
                    ev.add("origins", Found(self.origin_prefixes[prefix], raw))
                tail = seg[len(prefix) :] if prefix is not None else seg
                if tail:
                    rest.append(tail)
            ev.add("cell_types", Found(MSC, raw))
            tissue = self._lead_tissue("".join(rest)) or next(
                (t for t in (self._lead_tissue(s) for s in reversed(rest)) if t), None
            )
            if tissue is not None:
                ev.add("tissues", Found(tissue, raw))

    def _lead_tissue(self, lead: str) -> str | None:
        """The tissue an MSC abbreviation's lead names: as written, without a leading
        "h" (human), without a trailing "m" (multipotent), or without both."""
        if not lead:
            return None
        candidates = [lead]
        if lead.startswith("h") and len(lead) > 1:
            candidates.append(lead[1:])
        for c in list(candidates):
            if c.endswith("m") and len(c) > 1:
                candidates.append(c[:-1])
        for c in candidates:
            if c in self.msc_prefixes:
                return self.msc_prefixes[c]
        return None


def origin_of(found: list[Found]) -> CellOrigin | None:
    """One origin when the evidence agrees, else ``None``."""
    kinds = {f.id for f in found}
    return CellOrigin(kinds.pop()) if len(kinds) == 1 else None
