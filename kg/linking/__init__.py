"""Vocabulary linking: conditions and interventions to MeSH, Cell Ontology, UBERON,
ChEBI and DrugBank.

The ingest pipeline calls :meth:`Linker.link` on each :class:`~kg.model.Trial` before
the RDF mapping; it adds :class:`~kg.model.Link` objects, splits run-together
condition lines, marks conditions that name a cell type and types cell therapies.
The rules are documented on :class:`Linker`; ``benchmarks/linking_benchmark.py``
measures condition linking against the registry's own MeSH indexing.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import terms as T
from kg.dosing import find_doses
from kg.enums import InterventionType, LinkMethod
from kg.linking.cells import CellEvidence, CellMatcher, Found, origin_of
from kg.linking.index import INDEX_VERSION, Concept, Domain, Hit, LinkIndex, vocabulary_code, vocabulary_graphs
from kg.linking.normalise import fold, located_words, words
from kg.model import CellTherapy, Condition, DoseSubstance, Intervention, Link, MeshTerm, Trial
from kg.vocab.curated import Curated, bundled, curie_iri
from kg.vocab.skos import value as _value

__all__ = ["Domain", "LinkIndex", "Linker"]

log = logging.getLogger(__name__)

CONDITION_DOMAINS = Domain.DISEASE
CHEMICAL_VOCABULARIES = ("MESH", "CHEBI", "DRUGBANK")

#: A single word that is only the head of a longer name says nothing on its own:
#: inside a longer condition name it is never linked by itself ("Lumbar Disc Disease"
#: does not become MeSH "Disease").
GENERIC_HEADS = frozenset(
    {"disease", "disorder", "syndrome", "condition", "illness", "abnormality", "anomaly", "dysfunction", "lesion"}
)
NEGATIONS = frozenset({"non", "no", "not", "without", "free"})
#: MeSH "Disease"/"Syndrome" (C23.550.288) and "Disease Attributes" (C23.550.291: Acute
#: Disease, Chronic Disease, Recurrence, Disease Progression) describe a disease rather
#: than name one: a single word inside a longer condition name is not linked to them.
ATTRIBUTE_TREES = ("C23.550.288", "C23.550.291")

#: Words naming a dosage form, route, release or dose, removed from an intervention
#: name before it is matched ("Calcipotriol ointment" -> "Calcipotriol").
FORM_WORDS = frozenset(
    words(w)[0]
    for w in [
        "ointment",
        "cream",
        "gel",
        "lotion",
        "foam",
        "paste",
        "solution",
        "suspension",
        "emulsion",
        "tablet",
        "capsule",
        "pill",
        "caplet",
        "lozenge",
        "injection",
        "injectable",
        "infusion",
        "inhaler",
        "inhalation",
        "spray",
        "patch",
        "drop",
        "syrup",
        "elixir",
        "powder",
        "granule",
        "suppository",
        "implant",
        "film",
        "oral",
        "topical",
        "intravenous",
        "intramuscular",
        "subcutaneous",
        "intradermal",
        "intrathecal",
        "intravitreal",
        "intranasal",
        "nasal",
        "ophthalmic",
        "otic",
        "rectal",
        "vaginal",
        "transdermal",
        "sublingual",
        "buccal",
        "iv",
        "im",
        "sc",
        "po",
        "extended",
        "delayed",
        "sustained",
        "controlled",
        "modified",
        "release",
        "er",
        "xr",
        "sr",
        "cr",
        "dr",
        "coated",
        "chewable",
        "dispersible",
        "effervescent",
        "liquid",
        "vial",
        "ampoule",
        "mg",
        "g",
        "mcg",
        "ug",
        "ml",
        "l",
        "iu",
        "unit",
        "dose",
        "dosage",
        "daily",
        "weekly",
        "low",
        "high",
    ]
)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?%?$")
#: Words that may stand between a substance's name and its dose ("mesna 40 mg/kg",
#: "Cyclophosphamide: 50 mg/kg", "globulin at 3.5 mg/kg", "Pirfenidone at dose upto").
_LINKING_WORDS = (  # noqa: SIM905 (a list of words, read as one)
    "at in of a an the dose doses dosage daily total single given administered orally iv po is was will be"
    " starting initial loading maintenance"
).split()
_DOSE_GAP = re.compile(rf"[\s:=,(–-]*(?:(?:{'|'.join(_LINKING_WORDS)})\b[\s:=,(–-]*)*", re.IGNORECASE)
_LINKING = frozenset(_LINKING_WORDS)
#: How far before a dose, in characters and in words, its substance's name is looked for.
_SUBSTANCE_REACH = 120
_SUBSTANCE_WORDS = 6
#: MeSH trees of dosage forms, preparations and mixtures: not substances a dose is of.
_NOT_SUBSTANCES = ("D20", "D25", "D26", "D27.720")
_HAS_DIGIT = re.compile(r"\d")

_SEPARATORS = re.compile(r"\s*(?:\+|/|,|;|&|\band\b|\bplus\b|\bwith\b)\s*", re.IGNORECASE)
_TYPE_PREFIX = re.compile(r"^[A-Za-z ]+:\s+")

#: Condition words that may sit around a cell-type name without making it something else.
CELL_FILLERS = frozenset(words("human derived adult allogeneic autologous from of the and in cell"))

#: Intervention types whose names are matched against drug vocabularies.
_DRUG_TYPES = {
    None,
    InterventionType.DRUG,
    InterventionType.BIOLOGICAL,
    InterventionType.DIETARY_SUPPLEMENT,
    InterventionType.COMBINATION_PRODUCT,
    InterventionType.GENETIC,
    InterventionType.OTHER,
}
#: Intervention types whose description may show a cell therapy its name does not.
_CELL_DESCRIPTION_TYPES = {
    None,
    InterventionType.BIOLOGICAL,
    InterventionType.GENETIC,
    InterventionType.OTHER,
    InterventionType.PROCEDURE,
    InterventionType.COMBINATION_PRODUCT,
}


@dataclass
class _ConditionText:
    """What a condition's text matches on its own."""

    whole: Hit | None = None
    spans: list[Hit] = field(default_factory=list)
    cell: CellTherapy | None = None
    words: frozenset[str] = frozenset()


class Linker:
    """Links a trial's conditions and interventions to vocabulary concepts.

    Conditions
        * Registry MeSH terms (``trial.condition_mesh``; names only, for the legacy
          XML, in ``trial.condition_mesh_names``, resolved by exact name) become
          ``REGISTRY`` links. Each term goes to the condition it belongs to: the one
          whose text matches the term itself, else one whose text contains it, else one
          whose text matches a broader or narrower concept, else the one sharing the
          most words with the term's name; when no condition shares anything with it,
          the first condition. No registry term is dropped.
        * A condition with no registry term of its own is linked by its text: the whole
          text, normalised (:mod:`kg.linking.normalise`), equal to a MeSH disease name
          (``EXACT``) or entry term (``SYNONYM``); failing that, the longest disease
          names found inside it, left to right. A single generic head word ("Disease")
          and a name right after a negation are not linked. Nothing else: no fuzzy or
          partial-word matching, and an unmatched condition stays unmatched.
        * A run-together line (``verbatim`` set and ``split_uncertain``) is split by
          longest match over disease names, entry terms and cell-type names; leftover
          words become conditions of their own. ``split_uncertain`` becomes False only
          when matches cover the whole line.
        * A condition that names a cell type ("Mesenchymal Stromal Cells") is marked
          ``is_cell_type`` and linked to the Cell Ontology instead of MeSH.

    Keywords
        * For a trial without registry condition terms, each keyword whose whole text,
          normalised, is a MeSH disease name or entry term (not a disease attribute such
          as "Disease Progression") becomes a trial-level keyword link
          (``trial.keyword_links``, ``tkg:keywordLink``), unless a condition is linked
          to that concept already. Keyword links are kept apart from condition links.

    Interventions
        * Registry MeSH terms attach like condition terms.
        * Drug-like interventions: the name and each other name, with dosage-form,
          route and dose words removed, matched whole against MeSH chemicals (tree D and
          chemical supplementary records), ChEBI and DrugBank; when nothing matches,
          each part of a combination ("A + B", "A and B"). Each match is followed one
          step along ``skos:exactMatch`` to the other drug vocabularies. MeSH text links
          are not added where the registry gave MeSH terms.
        * Cell therapies are typed with the curated vocabulary (:mod:`kg.linking.cells`)
          from the name and other names, then the description, then the descriptions of
          the intervention's arms: cell types, source tissues, the tissue-specific Cell
          Ontology term when one tissue is known, and autologous or allogeneic.
    """

    def __init__(self, index: LinkIndex, curated: Curated | None = None, *, fingerprint: str | None = None) -> None:
        self.index = index
        self.curated = curated or bundled()
        #: names the vocabularies this linker links to (MappingOptions.links)
        self.fingerprint = fingerprint or f"index-{INDEX_VERSION}-{self.curated.checksum[:12]}-{len(index.concepts)}"
        self.cells = CellMatcher(self.curated)
        self._refine = self.curated.refinements()
        self._general = self.curated.generalisations()
        self._broader_cells = self.curated.broader_cell_types()
        self.stats: Counter[str] = Counter()

    # -- construction ------------------------------------------------------------

    @classmethod
    def curated_only(cls) -> Linker:
        """A linker with the curated vocabulary alone (no store, no imported vocabularies)."""
        curated = bundled()
        return cls(LinkIndex.curated_only(curated), curated)

    @classmethod
    def from_store(cls, store: ox.Store, *, cache_dir: Path | None = None) -> Linker:
        """A linker over the vocabulary graphs in ``store`` plus the curated vocabulary.

        Building the index from the full shared vocabularies takes several seconds;
        with ``cache_dir`` (for example the store's directory) the index is cached
        there, keyed by the checksums of the vocabulary graphs, the curated vocabulary
        and the index version, and rebuilt when any of them changes.
        """
        curated = bundled()
        key = _cache_key(store, curated)
        cache = cache_dir / f"linker-index-{key}.json" if cache_dir is not None and key is not None else None
        if cache is not None and cache.exists():
            try:
                with _no_gc():
                    started = time.perf_counter()
                    index = LinkIndex.from_bytes(cache.read_bytes())
                log.info("linker index read from %s in %.1f s", cache, time.perf_counter() - started)
                return cls(index, curated, fingerprint=key)
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable linker index cache %s: %s", cache, exc)
        with _no_gc():
            started = time.perf_counter()
            index = LinkIndex.from_store(store, curated)
        log.info("linker index built in %.1f s (%d concepts)", time.perf_counter() - started, len(index.concepts))
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                for old in cache.parent.glob("linker-index-*.json"):
                    old.unlink()
                tmp = cache.with_suffix(".tmp")
                tmp.write_bytes(index.to_bytes())
                tmp.replace(cache)
            except OSError as exc:
                log.warning("cannot cache the linker index in %s: %s", cache_dir, exc)
        return cls(index, curated, fingerprint=key)

    # -- the entry point -----------------------------------------------------------

    def link(self, trial: Trial) -> None:
        """Add links to ``trial``'s conditions and interventions (see the class notes)."""
        self._link_conditions(trial)
        self._link_keywords(trial)
        self._link_interventions(trial)
        self._dose_substances(trial)

    # -- conditions ----------------------------------------------------------------

    def _link_conditions(self, trial: Trial) -> None:
        conditions: list[Condition] = []
        for c in trial.conditions:
            if c.verbatim is not None and c.split_uncertain and c.name == c.verbatim:
                parts = self.split(c)
                if len(parts) > 1:
                    self.stats["condition lines split"] += 1
                conditions.extend(parts)
            else:
                conditions.append(c)
        trial.conditions = conditions
        texts = [self.condition_text(c.name) for c in conditions]
        registry = self._registry_terms(trial.condition_mesh, trial.condition_mesh_names)
        evidenced = [False] * len(conditions)
        for iri, term in registry:
            self.stats["condition registry terms"] += 1
            i, score = self._attach(iri, term, texts)
            if i is None:
                continue
            if score > 0:
                evidenced[i] = True
            else:
                self.stats["condition registry terms attached without evidence"] += 1
            _add(conditions[i].links, self._link(iri, LinkMethod.REGISTRY, term))
        for c, text, has_registry in zip(conditions, texts, evidenced, strict=True):
            self.stats["conditions"] += 1
            if text.cell is not None and text.whole is None:
                c.is_cell_type = True
                for link in text.cell.cell_types:
                    _add(c.links, link)
                self.stats["conditions naming a cell type"] += 1
                continue
            if not has_registry:
                for hit in ([text.whole] if text.whole else []) + text.spans:
                    _add(c.links, self._hit_link(hit))
            self.stats["conditions linked" if c.links else "conditions unmatched"] += 1

    def _link_keywords(self, trial: Trial) -> None:
        """Trial-level links from the sponsor's keywords: a keyword whose whole text,
        normalised, is a MeSH disease name or entry term, other than a disease attribute
        ("Disease Progression", "Chronic Disease": they describe the trial's disease, not
        name one). Only for trials without registry condition terms (where the registry
        indexed the trial, its terms stand), and only for concepts no condition is linked
        to already."""
        trial.keyword_links = []
        if trial.condition_mesh or trial.condition_mesh_names:
            return
        on_conditions = {link.iri for c in trial.conditions for link in c.links}
        for keyword in trial.keywords:
            self.stats["keywords"] += 1
            hit = self.index.match_whole(keyword, CONDITION_DOMAINS).get("MESH")
            if hit is None or hit.concept.iri in on_conditions or _attribute(hit):
                continue
            _add(trial.keyword_links, self._hit_link(hit), by_iri=True)
            self.stats["keywords linked"] += 1

    def condition_text(self, name: str) -> _ConditionText:
        """The concepts a condition's own text names (no registry terms involved)."""
        out = _ConditionText(words=frozenset(words(name, drop_parentheses=True)))
        whole = self.index.match_whole(name, CONDITION_DOMAINS).get("MESH")
        out.whole = whole
        cell = self._cell_condition(name)
        if cell is not None and whole is None:
            out.cell = cell
            return out
        if whole is None:
            out.spans = self._spans(name)
        return out

    def _cell_condition(self, name: str) -> CellTherapy | None:
        """The cell type a condition names, when every word of it is accounted for by
        cell-type and tissue names (and a few neutral words)."""
        ev = self.cells.find(name)
        hit = self.index.match_whole(name, Domain.CELL).get("CL")
        if hit is not None and all(f.id != _curie(hit.concept.iri) for f in ev.cell_types):
            ev.cell_types.append(Found(_curie(hit.concept.iri), hit.term))
        if not ev.cell_types or ev.products:
            return None
        covered: set[str] = set(CELL_FILLERS)
        for f in ev.cell_types + ev.tissues + ev.origins:
            covered.update(words(f.surface))
        if not set(words(name, drop_parentheses=True)) <= covered:
            return None
        return self._cell_therapy([("condition", name, ev)], [], [], field_text={"condition": name})

    def _spans(self, name: str) -> list[Hit]:
        ws = words(name, drop_parentheses=True)
        found: list[Hit] = []
        i = 0
        while i < len(ws):
            step = 1
            for n in range(min(self.index.max_span, len(ws) - i), 0, -1):
                if n == 1 and ws[i] in GENERIC_HEADS:
                    continue
                hit = self.index.match_span(ws[i : i + n], CONDITION_DOMAINS)
                if hit is None or (n == 1 and _attribute(hit)):
                    continue
                if i > 0 and ws[i - 1] in NEGATIONS:
                    step = n
                    break
                if all(h.concept.iri != hit.concept.iri for h in found):
                    found.append(hit)
                step = n
                break
            i += step
        return found

    def split(self, condition: Condition) -> list[Condition]:
        """Split a run-together condition line into conditions, by longest match over
        disease and cell-type names; leftover words form conditions of their own. The
        parts keep the line as ``verbatim``; they are certain only when names cover the
        whole line. (A part, whose name is no longer the verbatim line, is not split
        again.)"""
        raw = condition.name.split()
        flat: list[tuple[str, int]] = []  # (normalised word, raw word index)
        for ri, r in enumerate(raw):
            flat.extend((w, ri) for w in words(r))
        starts = {i for i, (_, ri) in enumerate(flat) if i == 0 or flat[i - 1][1] != ri}
        ends = {i + 1 for i, (_, ri) in enumerate(flat) if i + 1 == len(flat) or flat[i + 1][1] != ri}
        segments: list[tuple[int, int, bool]] = []  # raw word range, matched
        i = 0
        leftover_from: int | None = None
        while i < len(flat):
            match_len = 0
            if i in starts:
                for n in range(min(self.index.max_span, len(flat) - i), 0, -1):
                    if i + n not in ends:
                        continue
                    ws = tuple(w for w, _ in flat[i : i + n])
                    if n == 1 and ws[0] in GENERIC_HEADS:
                        continue
                    hit = self.index.match_span(ws, Domain.DISEASE | Domain.CELL)
                    if hit is not None and not (n == 1 and _attribute(hit)):
                        match_len = n
                        break
            if match_len:
                if leftover_from is not None:
                    segments.append((flat[leftover_from][1], flat[i - 1][1] + 1, False))
                    leftover_from = None
                segments.append((flat[i][1], flat[i + match_len - 1][1] + 1, True))
                i += match_len
            else:
                if leftover_from is None:
                    leftover_from = i
                i += 1
        if leftover_from is not None:
            segments.append((flat[leftover_from][1], flat[-1][1] + 1, False))
        certain = all(matched for _, _, matched in segments)
        if len(segments) <= 1:  # the line is one name, or names nothing known
            condition.split_uncertain = not certain
            return [condition]
        return [
            Condition(" ".join(raw[a:b]), verbatim=condition.verbatim, split_uncertain=not certain, links=[])
            for a, b, _ in segments
        ]

    # -- registry terms ------------------------------------------------------------

    def _registry_terms(self, terms: list[MeshTerm], names: list[str]) -> list[tuple[str, str | None]]:
        out: dict[str, str | None] = {}
        for t in terms:
            out.setdefault(self.mesh_iri(t.id), t.term)
        for name in names:
            hit = self.index.match_whole(name, ~0).get("MESH")
            if hit is None:
                self.stats["registry MeSH names not in the vocabulary"] += 1
                log.debug("registry MeSH heading %r is not in the vocabulary", name)
                continue
            out.setdefault(hit.concept.iri, name)
        return list(out.items())

    def mesh_iri(self, mesh_id: str) -> str:
        """The MeSH IRI for a registry ID, trying NLM's other width when the ID as
        given is unknown (D011565 / D000011565)."""
        iri = T.mesh_iri(mesh_id).value
        if self.index.concept(iri) is not None:
            return iri
        m = re.fullmatch(r"([CD])0*(\d+)", mesh_id)
        if m:
            for width in (6, 9):
                alt = T.mesh_iri(f"{m.group(1)}{int(m.group(2)):0{width}d}").value
                if self.index.concept(alt) is not None:
                    return alt
        return iri

    def _attach(self, iri: str, term: str | None, texts: list[_ConditionText]) -> tuple[int | None, float]:
        """The condition (index) a registry term belongs to, and how well it fits
        (0 when nothing in any condition relates to it)."""
        if not texts:
            return None, 0.0
        concept = self.index.concept(iri)
        names = {n for n in (term, concept.label if concept else None) if n}
        term_words = set().union(*(set(words(n, drop_parentheses=True)) for n in names)) if names else set()
        ancestors = self.index.ancestors(iri)
        best, best_score = 0, 0.0
        for i, t in enumerate(texts):
            hits = ([t.whole] if t.whole else []) + t.spans
            hit_iris = {h.concept.iri for h in hits}
            if t.whole is not None and t.whole.concept.iri == iri:
                score = 100.0
            elif iri in hit_iris:
                score = 90.0
            elif hit_iris & ancestors or any(iri in self.index.ancestors(h) for h in hit_iris):
                score = 50.0
            else:
                overlap = len(term_words & t.words) / len(term_words) if term_words else 0.0
                score = 40.0 * overlap
            if score > best_score:
                best, best_score = i, score
        return best, best_score

    # -- interventions -------------------------------------------------------------

    def _link_interventions(self, trial: Trial) -> None:
        texts = [self._intervention_text(iv) for iv in trial.interventions]
        registry = self._registry_terms(trial.intervention_mesh, trial.intervention_mesh_names)
        has_registry = [False] * len(trial.interventions)
        for iri, term in registry:
            self.stats["intervention registry terms"] += 1
            i, _score = self._attach(iri, term, texts)
            if i is None:
                continue
            has_registry[i] = True
            _add(trial.interventions[i].links, self._link(iri, LinkMethod.REGISTRY, term))
        for iv, registry_mesh in zip(trial.interventions, has_registry, strict=True):
            self.stats["interventions"] += 1
            if iv.type in _DRUG_TYPES:
                for link in self.drug_links(iv):
                    if not (registry_mesh and link.vocabulary == "MESH"):
                        _add(iv.links, link)
            therapy = self._type_cell_therapy(trial, iv)
            if therapy is not None:
                iv.cell_therapy = therapy
                self.stats["cell therapies typed"] += 1
            self.stats["interventions linked" if iv.links or iv.cell_therapy else "interventions unmatched"] += 1

    def _intervention_text(self, iv: Intervention) -> _ConditionText:
        """The drug concepts an intervention's names match, for attaching registry terms."""
        hits: list[Hit] = []
        all_words: set[str] = set()
        for name in [iv.name, *iv.other_names]:
            all_words.update(words(name, drop_parentheses=True))
            for part in self._drug_names(name):
                hit = self.index.match_whole(part, Domain.CHEMICAL).get("MESH")
                if hit is not None and hit not in hits:
                    hits.append(hit)
        return _ConditionText(whole=hits[0] if hits else None, spans=hits[1:], words=frozenset(all_words))

    def _drug_names(self, name: str) -> Iterator[str]:
        """The name without dosage-form, route and dose words; then its parts."""
        cleaned = _strip_forms(_TYPE_PREFIX.sub("", name))
        if cleaned:
            yield cleaned
        parts = [_strip_forms(p) for p in _SEPARATORS.split(_TYPE_PREFIX.sub("", name))]
        if len(parts) > 1:
            yield from (p for p in parts if p)

    def drug_links(self, iv: Intervention) -> list[Link]:
        """Drug links for an intervention's name and other names (see the class notes)."""
        links: list[Link] = []
        for name in [iv.name, *iv.other_names]:
            found: list[Link] = []
            for k, text in enumerate(self._drug_names(name)):
                if k == 1 and found:
                    break  # the whole name matched: its parts are not tried
                hits = self.index.match_whole(text, Domain.CHEMICAL)
                direct = {v: h for v, h in hits.items() if v in CHEMICAL_VOCABULARIES}
                for _vocab, hit in sorted(direct.items()):
                    _add(found, self._hit_link(hit))
                for hit in direct.values():
                    for m in hit.concept.matches:
                        mv = vocabulary_code(m)
                        if mv in CHEMICAL_VOCABULARIES and mv not in direct:
                            method = LinkMethod.CURATED if hit.curated else _method(hit)
                            _add(found, self._link(m, method, hit.term))
            for link in found:
                _add(links, link)
        return links

    # -- the substance a dose is stated for -----------------------------------------

    def _dose_substances(self, trial: Trial) -> None:
        """For each dose in an intervention's or arm's text, the substance whose name
        stands right before it (:meth:`substance_before`), in ``trial.dose_substances``.
        Without MeSH loaded there is nothing to find, and nothing is read."""
        if not self.index.vocabularies.get("mesh"):
            trial.dose_substances = {}
            return
        texts = [t for iv in trial.interventions for t in (iv.name, *iv.other_names, iv.description)]
        texts += [t for a in trial.arms for t in (a.label, a.description)]
        found: dict[str, dict[int, DoseSubstance]] = {}
        owns: list[set[str]] | None = None
        for text in dict.fromkeys(t for t in texts if t and _HAS_DIGIT.search(t)):
            for start in dict.fromkeys(d.start for d in find_doses(text, counts_are_cells=True)):
                substance = self.substance_before(text, start)
                if substance is None:
                    continue
                if owns is None:
                    owns = [self._own_concepts(iv) for iv in trial.interventions]
                of = tuple(k for k, own in enumerate(owns) if self._related(substance.iri, own))
                found.setdefault(text, {})[start] = DoseSubstance(substance.iri, substance.start, substance.end, of)
                self.stats["doses naming a substance"] += 1
        trial.dose_substances = found

    def _own_concepts(self, iv: Intervention) -> set[str]:
        """The concepts an intervention is linked to, and those they match in other
        vocabularies."""
        own = {link.iri for link in iv.links}
        for iri in list(own):
            concept = self.index.concept(iri)
            if concept is not None:
                own.update(concept.matches)
        return own

    def _related(self, iri: str, own: set[str]) -> bool:
        """``iri`` is one of ``own``, or broader or narrower than one of them."""
        ancestors = self.index.ancestors
        return iri in own or not own.isdisjoint(ancestors(iri)) or any(iri in ancestors(o) for o in own)

    def substance_before(self, text: str, start: int) -> DoseSubstance | None:
        """The MeSH drug or chemical named right before ``start`` in ``text``, where a
        dose statement begins: "with mesna 40 mg/kg" (Mesna), "anti-thymocyte globulin at
        3.5 mg/kg/dose", "Cyclophosphamide (CTX) 50 mg/kg". Only linking words may stand
        between the name and the dose (:data:`_DOSE_GAP`). Dosage forms, preparations and
        mixtures ("tablets", "suspension", "placebo": MeSH D20, D25, D26 and D27.720) are
        not substances; one word must have three letters or more."""
        offset = max(0, start - _SUBSTANCE_REACH)
        before = text[offset:start]
        located = located_words(before)
        for j in range(len(located) - 1, -1, -1):
            if not _DOSE_GAP.fullmatch(before, located[j][2]):
                return None
            for n in range(min(_SUBSTANCE_WORDS, j + 1), 0, -1):
                first = located[j - n + 1]
                if first[0] in _LINKING or (n == 1 and len(first[0]) < 3):
                    continue  # "of cyclophosphamide" is named from "cyclophosphamide"
                hit = self.index.match_whole(before[first[1] : located[j][2]], Domain.CHEMICAL).get("MESH")
                if hit is not None and _substance(hit.concept):
                    return DoseSubstance(hit.concept.iri, offset + first[1], offset + located[j][2])
        return None

    # -- cell therapies --------------------------------------------------------------

    def _type_cell_therapy(self, trial: Trial, iv: Intervention) -> CellTherapy | None:
        primary = [("name", iv.name)] + [("other name", n) for n in iv.other_names]
        levels: list[list[tuple[str, str, CellEvidence]]] = [[(f, t, self.cells.find(t)) for f, t in primary]]
        if any(ev.products for _, _, ev in levels[0]):
            return None  # exosomes, vesicles, conditioned medium: made from cells, not cells
        description = [("description", iv.description)] if iv.description else []
        arms = [("arm", a.description) for a in trial.arms if a.description and _in_arm(iv, a)]
        desc_level = [(f, t, self.cells.find(t)) for f, t in description]
        arm_level = [(f, t, self.cells.find(t)) for f, t in arms]
        if not any(ev.cell_types for _, _, ev in levels[0]):
            if iv.type not in _CELL_DESCRIPTION_TYPES or not any(ev.cell_types for _, _, ev in desc_level):
                return None
            if any(ev.products for _, _, ev in desc_level):
                return None
        field_text = {f: t for f, t in primary + description + arms}
        return self._cell_therapy(levels[0], desc_level, arm_level, field_text=field_text)

    def _cell_therapy(
        self,
        primary: list[tuple[str, str, CellEvidence]],
        description: list[tuple[str, str, CellEvidence]],
        arms: list[tuple[str, str, CellEvidence]],
        *,
        field_text: dict[str, str],
    ) -> CellTherapy:
        """Cell types from the first level that names one; tissues and origin from the
        first level that names any, in the order name, description, arms."""
        levels = [primary, description, arms]
        evidence: list[str] = []

        def first(kind: str) -> list[tuple[str, str, Found]]:
            for level in levels:
                got = [(f, t, x) for f, t, ev in level for x in getattr(ev, kind)]
                if got:
                    return got
            return []

        cells = first("cell_types")
        tissues = first("tissues")
        origins = first("origins")
        read = list(dict.fromkeys(x.id for _, _, x in cells))
        # a general type read next to a more specific one adds nothing ("stem cells" and "MSCs")
        read = [c for c in read if not any(c in self._broader_cells.get(o, ()) for o in read if o != c)]
        tissue_ids = list(dict.fromkeys(x.id for _, _, x in tissues))
        therapy = CellTherapy()
        for curie in read:
            f, t, x = next(item for item in cells if item[2].id == curie)
            if curie in self._general:  # an abbreviation that names the tissue-specific type
                general, tissue = self._general[curie]
                _add(therapy.cell_types, self._curated_link(general, x.surface, field_text.get(f, t)), by_iri=True)
                if tissue not in tissue_ids:
                    tissue_ids.append(tissue)
                    tissues.append((f, t, Found(tissue, x.surface)))
            _add(therapy.cell_types, self._curated_link(curie, x.surface, field_text.get(f, t)), by_iri=True)
            evidence.append(f"{f}: {x.surface}")
        for f, t, x in tissues:
            _add(therapy.source_tissues, self._curated_link(x.id, x.surface, t), by_iri=True)
            evidence.append(f"{f}: {x.surface}")
        if len(tissue_ids) == 1:
            for curie in read:
                specific = self._refine.get((curie, tissue_ids[0]))
                if specific is not None:
                    surface = next(x.surface for _, _, x in cells if x.id == curie)
                    link = self._link(curie_iri(specific), LinkMethod.CURATED, surface)
                    _add(therapy.cell_types, link, by_iri=True)
        therapy.origin = origin_of([x for _, _, x in origins])
        if therapy.origin is not None:
            evidence.extend(f"{f}: {x.surface}" for f, _, x in origins)
        therapy.evidence = "; ".join(dict.fromkeys(evidence)) or None
        return therapy

    # -- links -----------------------------------------------------------------------

    def _label(self, iri: str) -> str | None:
        c = self.index.concept(iri)
        if c is not None and c.label:
            return c.label
        return self.curated.labels.get(_curie(iri))

    def _link(self, iri: str, method: LinkMethod, matched: str | None) -> Link:
        return Link(iri, vocabulary_code(iri) or "OTHER", method, matched=matched, label=self._label(iri))

    def _hit_link(self, hit: Hit) -> Link:
        return self._link(hit.concept.iri, LinkMethod.CURATED if hit.curated else _method(hit), hit.term)

    def _curated_link(self, curie: str, surface: str, field_value: str) -> Link:
        whole = fold(field_value).strip() == fold(surface).strip() or words(field_value) == words(surface)
        return self._link(curie_iri(curie), LinkMethod.CURATED if whole else LinkMethod.PATTERN, surface)


# -- helpers -----------------------------------------------------------------------


def _substance(concept: Concept) -> bool:
    """A MeSH chemical that a dose can be of: a supplementary concept, or a descriptor
    with a Chemicals and Drugs tree (D) outside the dosage forms, preparations and
    mixtures (Placebos, D26.660 and E02.785, is none)."""
    if not concept.trees:
        return concept.iri[len(T.MESH_NS) :].startswith("C")
    return any(tn.startswith("D") and not tn.startswith(_NOT_SUBSTANCES) for tn in concept.trees)


def _attribute(hit: Hit) -> bool:
    trees = hit.concept.trees
    return bool(trees) and all(tn.startswith(ATTRIBUTE_TREES) for tn in trees)


def _method(hit: Hit) -> LinkMethod:
    return LinkMethod.EXACT if hit.preferred else LinkMethod.SYNONYM


def _add(links: list[Link], link: Link, *, by_iri: bool = False) -> None:
    """Append ``link`` unless the list has it already: the same concept by the same
    method, or (``by_iri``, for cell types and tissues) the same concept at all."""
    if all(not (x.iri == link.iri and (by_iri or x.method == link.method)) for x in links):
        links.append(link)


def _curie(iri: str) -> str:
    c = T.curie(iri)
    return c.replace("mesh:", "MESH:", 1) if c.startswith("mesh:") else c


def _strip_forms(text: str) -> str:
    kept = []
    for raw in text.split():
        ws = words(raw)
        if ws and all(w in FORM_WORDS or _NUMBER.match(w) for w in ws):
            continue
        kept.append(raw)
    return " ".join(kept).strip(" -,;")


def _in_arm(iv: Intervention, arm: object) -> bool:
    label = getattr(arm, "label", None)
    names = getattr(arm, "intervention_names", []) or []
    if label is not None and label in iv.arm_labels:
        return True
    return any(n == iv.name or _TYPE_PREFIX.sub("", n) == iv.name for n in names)


def _cache_key(store: ox.Store, curated: Curated) -> str | None:
    """The linker cache key, or None when a vocabulary graph has no checksum (an
    interrupted import: its index is built, never cached)."""
    h = hashlib.sha256(f"{INDEX_VERSION}|{curated.checksum}".encode())
    for name, graph in vocabulary_graphs(store):
        checksum = next((_value(q.object) for q in store.quads_for_pattern(graph, T.checksum, None, graph)), None)
        if checksum is None:
            return None
        h.update(f"|{name}={checksum}".encode())
    return h.hexdigest()[:24]


@contextmanager
def _no_gc() -> Iterator[None]:
    """Building the index makes millions of small objects; the cyclic garbage collector
    would scan them over and over (it triples the build time) and they hold no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
