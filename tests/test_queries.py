"""The saved-query catalogue (queries/*.rq, kg/queries.py, ``trialkg query``).

Every query runs on a store ingested from real records: the records under
tests/fixtures/queries/ always, and the shared corpus when it is there (every format
the source registry reads). Expected answers are computed from the record files
themselves by tests/query_records.py (its own JSON/XML reading and display-value
tables) and from the vocabulary's SKOS quads, never through the graph or kg's code.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import typer
from typer.testing import CliRunner

from kg import queries as Q
from kg import terms as T
from kg.cli.query import register
from kg.enums import CellOrigin, InterventionType, LinkMethod, Phase, SourceFormat
from kg.errors import QueryError
from kg.ingest import ingest
from kg.load import load
from kg.mapping import MappingOptions, trial_quads
from kg.model import Arm, CellTherapy, DoseSubstance, Intervention, Link, Source, Trial
from kg.reader import read_trials
from kg.remote import Credentials
from kg.resources import queries_dir
from kg.sources import REGISTRY
from kg.store import TrialStore
from tests import servers
from tests.conftest import CORPUS
from tests.query_records import (
    MESH,
    READERS,
    Record,
    Vocabulary,
    arm_interventions,
    matches_condition,
    read_records,
    slug,
)
from tests.servers import running_oxigraph, running_virtuoso

try:
    from kg.vocab import import_paths
except ImportError:  # the vocabulary importer is not here: the fixture vocabulary stands in
    import_paths = None

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "queries"


def _fixture_records() -> Path:
    """The records listed in fixtures/queries/records.txt, read from the shared corpus
    (never copied into the repository) into one temporary folder per test process."""
    global _FIXTURE_DIR  # noqa: PLW0603 - a per-process cache of the copied set
    if _FIXTURE_DIR is None:
        if not CORPUS.is_dir():
            pytest.skip(f"the query fixture records come from the shared corpus, not found at {CORPUS}")
        target = Path(tempfile.mkdtemp(prefix="trialkg-query-records-"))
        for line in (FIXTURES / "records.txt").read_text().split():
            src = CORPUS / line
            (target / src.parent.name).mkdir(exist_ok=True)
            shutil.copyfile(src, target / line)
        _FIXTURE_DIR = target
    return _FIXTURE_DIR


_FIXTURE_DIR: Path | None = None
OPTIONS = MappingOptions(ingest_time="2025-01-01T00:00:00Z")
AS_OF = "2024-06-30"
RECRUITING = {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"}
COMPARATOR_ARMS = {"ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION"}

Rows = list[tuple[str | None, ...]]


# --------------------------------------------------------------------------
# Worlds: a store and what the test knows about it without looking at it


@dataclass
class World:
    name: str
    store: TrialStore
    records: list[Record]
    vocab: Vocabulary

    def run(self, query: str, **params: object) -> Rows:
        variables, rows = Q.run_query(query, params, store=self.store)
        assert variables == list(Q.get_query(query).columns)
        return [tuple(r[v] for v in variables) for r in rows]

    def selected(self, condition: str | None = None, *, exact: bool = False) -> list[Record]:
        """The records of every trial a condition parameter selects (every trial when None)."""
        if condition is None:
            return self.records
        value = Q.parse_concept(condition)
        if value.iri is not None:
            iris, label = {value.iri.value}, None
        else:
            iris, label = self.vocab.concepts(condition), condition
        chosen = {r.nct for r in self.records if matches_condition(r, self.vocab, iris=iris, label=label, exact=exact)}
        return [r for r in self.records if r.nct in chosen]


def _registered_folders(root: Path) -> dict[str, Path]:
    registered = {fmt.value for fmt in REGISTRY}
    return {fmt: root / fmt for fmt in READERS if fmt in registered and (root / fmt).is_dir()}


def _fixture_vocab() -> list[ox.Quad]:
    """The hand-written vocabulary, plus the lower-cased lookup key (``tkg:labelKey``)
    of every preferred and alternative label, as the vocabulary import writes it."""
    quads = list(ox.parse(path=FIXTURES / "vocab.trig", format=ox.RdfFormat.TRIG))
    labels = (T.SKOS_PREF_LABEL, T.SKOS_ALT_LABEL)
    keys = {
        ox.Quad(q.subject, T.labelKey, ox.Literal(q.object.value.lower()), q.graph_name)
        for q in quads
        if q.predicate in labels
    }
    return quads + sorted(keys, key=str)


def _shared_vocab(vocab_dir: Path) -> list[ox.Quad]:
    """The shared vocabularies as kg.vocab imports them; the fixture vocabulary when
    kg.vocab is not there."""
    if import_paths is None:
        return _fixture_vocab()
    scratch = ox.Store()
    report = import_paths(scratch, [vocab_dir])
    assert report.ok, report.errors
    return [q for q in scratch.quads_for_pattern(None, None, None, None) if isinstance(q.graph_name, ox.NamedNode)]


def _world(name: str, root: Path, vocab: list[ox.Quad]) -> World:
    folders = _registered_folders(root)
    assert folders, f"no folder of a registered format under {root}"
    store = TrialStore(None)
    report = ingest(store, list(folders.values()), options=OPTIONS)
    assert not report.errors, [str(e) for e in report.errors]
    store.store.bulk_extend(vocab)
    return World(name, store, read_records(folders), Vocabulary(vocab))


@pytest.fixture(scope="session")
def fixture_world() -> World:
    return _world("fixtures", _fixture_records(), _fixture_vocab())


@pytest.fixture(scope="session")
def corpus_world(corpus_dir: Path, vocab_dir: Path) -> World:
    return _world("corpus", corpus_dir, _shared_vocab(vocab_dir))


@pytest.fixture(params=["fixture", "corpus"])
def world(request: pytest.FixtureRequest) -> World:
    return request.getfixturevalue(f"{request.param}_world")


# --------------------------------------------------------------------------
# Ordering as SPARQL's ORDER BY: unbound first, numbers by value, text by code point


def _asc(v: Any) -> tuple[int, Any]:
    return (0, "") if v is None else (1, v)


def _n(v: int) -> str:
    return str(v)


def _by_trials_desc(rows: Iterable[tuple[Any, ...]], count_at: int) -> Rows:
    """Rows sorted by their count column, largest first, then by every other column."""
    return sorted(
        rows,
        key=lambda r: (-int(r[count_at]), *[_asc(v) for i, v in enumerate(r) if i != count_at]),
    )


def _distribution(values_by_trial: dict[str, set[str]], ncts: Iterable[str]) -> Rows:
    counts: Counter[str | None] = Counter()
    for nct in set(ncts):
        values = values_by_trial.get(nct) or set()
        for v in values or {None}:
            counts[v] += 1
    return sorted(((k, _n(v)) for k, v in counts.items()), key=lambda r: _asc(r[0]))


def _union(recs: list[Record], field: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in recs:
        v = getattr(r, field)
        if isinstance(v, set):
            out[r.nct] |= v
        elif isinstance(v, list):
            out[r.nct] |= set(v)
        elif v is not None:
            out[r.nct].add(v)
    return out


CONDITIONS: list[str | None] = [None, "D001327"]


def test_selector_queries_select_the_same_nodes_without_their_order(world: World) -> None:
    """A parameter's selector query runs without its final ORDER BY line (only the set of
    nodes it selects is used): the line is there, and the rows are the same set."""
    runs = [
        ("condition-trials", {"condition": "D001327"}),
        ("intervention-matches", {"intervention": "CL:0000134"}),
        ("intervention-matches", {"intervention": "methotrexate"}),
        ("trials-with-several-sources", {}),
    ]
    assert {s for s, _, _, _ in Q.SELECTORS.values()} == {name for name, _ in runs}
    found = 0
    for name, params in runs:
        text = Q.prepare_query(name, params, store=world.store)
        lean = Q.unordered(text)
        assert "ORDER BY" in text.rsplit("\n}", 1)[-1] and "ORDER BY" not in lean.rsplit("\n}", 1)[-1], name
        rows = [tuple(s) for s in world.store.store.query(text)]
        assert sorted(map(str, rows)) == sorted(map(str, (tuple(s) for s in world.store.store.query(lean)))), name
        found += bool(rows)
    assert found >= 2


# --------------------------------------------------------------------------
# Distributions


@pytest.mark.parametrize("condition", CONDITIONS)
def test_phase_distribution(world: World, condition: str | None) -> None:
    recs = world.selected(condition)
    expected = _distribution(_union(recs, "phases"), (r.nct for r in recs))
    assert world.run("phase-distribution", condition=condition) == expected
    assert expected, "no trial selected: the test proves nothing"


@pytest.mark.parametrize("condition", CONDITIONS)
def test_status_overview(world: World, condition: str | None) -> None:
    recs = world.selected(condition)
    expected = _distribution(_union(recs, "status"), (r.nct for r in recs))
    assert world.run("status-overview", condition=condition) == expected


def test_trial_timeline(world: World) -> None:
    years = {nct: {d[:4] for d in dates} for nct, dates in _union(world.records, "start").items()}
    expected = _distribution(years, (r.nct for r in world.records))
    assert world.run("trial-timeline") == expected


@pytest.mark.parametrize("condition", CONDITIONS)
def test_countries(world: World, condition: str | None) -> None:
    counts = Counter(c for countries in _union(world.selected(condition), "countries").values() for c in countries)
    expected = _by_trials_desc(((c, _n(n)) for c, n in counts.items()), 1)
    assert world.run("countries", condition=condition) == expected
    assert expected


def test_sponsors(world: World) -> None:
    names: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    trials: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for r in world.records:
        if r.sponsor is not None:
            key = (slug(r.sponsor[0]), r.sponsor[1])
            names[key].add(r.sponsor[0])
            trials[key].add(r.nct)
    expected = _by_trials_desc(((min(names[k]), k[1], _n(len(trials[k]))) for k in trials), 2)
    assert world.run("sponsors") == expected


def test_design_summary(world: World) -> None:
    combos: dict[tuple[str | None, ...], set[str]] = defaultdict(set)
    for r in world.records:
        key = (r.study_type, r.allocation, r.masking, r.model)
        if any(v is not None for v in key):
            combos[key].add(r.nct)
    expected = _by_trials_desc(((*k, _n(len(v))) for k, v in combos.items()), 4)
    assert world.run("design-summary") == expected


@pytest.mark.parametrize("condition", CONDITIONS)
def test_enrollment_by_phase(world: World, condition: str | None) -> None:
    recs = world.selected(condition)
    phases = _union(recs, "phases")
    enrollment: dict[str, int] = {}
    for r in recs:
        if r.enrollment is not None:
            enrollment[r.nct] = max(enrollment.get(r.nct, r.enrollment), r.enrollment)
    values: dict[str | None, list[int]] = defaultdict(list)
    for nct, count in enrollment.items():
        for p in phases.get(nct) or {None}:
            values[p].append(count)
    expected = []
    for phase, vs in values.items():
        vs.sort()
        s = vs[(len(vs) - 1) // 2] + vs[len(vs) // 2]
        median = str(s // 2) if s % 2 == 0 else f"{s // 2}.5"
        expected.append((phase, _n(len(vs)), _n(sum(vs)), median))
    expected.sort(key=lambda r: _asc(r[0]))
    assert world.run("enrollment-by-phase", condition=condition) == expected
    if condition is None:
        assert any(int(r[1]) > 2 for r in expected), "no median worth the name was checked"


# --------------------------------------------------------------------------
# Listings


def _condition_params() -> list[tuple[str, bool]]:
    return [("D001327", False), ("D001327", True), ("mesh:D009103", False), ("autoimmune DISEASES", False)]


@pytest.mark.parametrize(("condition", "exact"), _condition_params())
def test_trials_by_condition(world: World, condition: str, exact: bool) -> None:
    recs = world.selected(condition, exact=exact)
    expected = sorted(
        {(r.nct, r.title, r.phase_text, r.status, None if r.enrollment is None else _n(r.enrollment)) for r in recs},
        key=lambda row: tuple(_asc(v) for v in row),
    )
    assert world.run("trials-by-condition", condition=condition, exact=exact) == expected
    if not exact:
        assert expected, "the condition selected no trial: the test proves nothing"


def test_hierarchy_adds_narrower_conditions(world: World) -> None:
    """Autoimmune Diseases includes trials indexed only under narrower conditions, such as
    Multiple Sclerosis; exact=true does not."""
    broad = {r[0] for r in world.run("trials-by-condition", condition="D001327")}
    exact = {r[0] for r in world.run("trials-by-condition", condition="D001327", exact=True)}
    ms = {r[0] for r in world.run("trials-by-condition", condition="D009103")}
    assert ms and ms <= broad
    assert not ms <= exact


def test_label_matches_condition_names_without_vocabulary() -> None:
    """With no vocabulary loaded, a label still finds trials by their condition names."""
    store = TrialStore(None)
    folder = _fixture_records() / "ctgov-v2-json"
    ingest(store, [folder], options=OPTIONS)
    recs = read_records({"ctgov-v2-json": folder})
    name = "MULTIPLE sclerosis"
    expected = {r.nct for r in recs if name.lower() in {c.lower() for c in r.conditions}}
    _, rows = Q.run_query("trials-by-condition", {"condition": name}, store=store)
    assert {r["nct_id"] for r in rows} == expected != set()


def test_eligibility_age_ranges(world: World) -> None:
    recs = world.selected("D001327")
    expected = sorted(
        {(r.nct, r.min_age, r.max_age, r.sex) for r in recs if (r.min_age, r.max_age, r.sex) != (None, None, None)},
        key=lambda row: tuple(_asc(v) for v in row),
    )
    assert world.run("eligibility-age-ranges", condition="D001327") == expected
    assert expected


def _completion_passed(completion: str | None) -> bool:
    if completion is None:
        return False
    end = completion + ("-12-31" if len(completion) == 4 else "-31" if len(completion) == 7 else "")
    return end < AS_OF


def test_stale_trials(world: World) -> None:
    rows = set()
    for r in world.records:
        if r.status == "UNKNOWN":
            reason = "UNKNOWN_STATUS"
        elif r.status in RECRUITING and _completion_passed(r.completion):
            reason = "COMPLETION_DATE_PASSED"
        else:
            continue
        rows.add((r.nct, r.status, r.last_known_status, r.completion, reason))
    expected = sorted(rows, key=lambda row: tuple(_asc(v) for v in row))
    assert world.run("stale-trials", as_of=AS_OF) == expected
    assert {r[4] for r in expected} == {"UNKNOWN_STATUS", "COMPLETION_DATE_PASSED"}


def test_trials_with_results(world: World) -> None:
    expected = sorted(
        {(r.nct, r.title, r.status, r.results_posted) for r in world.records if r.results},
        key=lambda row: tuple(_asc(v) for v in row),
    )
    assert world.run("trials-with-results") == expected
    assert expected


def test_primary_outcomes(world: World) -> None:
    expected = sorted(
        {(r.nct, m, tf) for r in world.selected("D001327") for m, tf in r.primary_outcomes},
        key=lambda row: tuple(_asc(v) for v in row),
    )
    assert world.run("primary-outcomes", condition="D001327") == expected
    assert expected


# --------------------------------------------------------------------------
# Interventions


def _grouped(rows: Iterable[tuple[tuple[Any, ...], str, str]]) -> tuple[dict[Any, set[str]], dict[Any, set[str]]]:
    """(key, display name, NCT ID) -> names per key, trials per key."""
    names: dict[Any, set[str]] = defaultdict(set)
    trials: dict[Any, set[str]] = defaultdict(set)
    for key, name, nct in rows:
        names[key].add(name)
        trials[key].add(nct)
    return names, trials


@pytest.mark.parametrize(("condition", "exact"), [("D001327", False), ("D001327", True)])
def test_interventions_by_condition(world: World, condition: str, exact: bool) -> None:
    recs = world.selected(condition, exact=exact)
    names, trials = _grouped(((iv.name.lower(), iv.type), iv.name, r.nct) for r in recs for iv in r.interventions)
    expected = _by_trials_desc(((min(names[k]), k[1], _n(len(trials[k]))) for k in trials), 2)
    assert world.run("interventions-by-condition", condition=condition, exact=exact) == expected


def test_comparators_used(world: World) -> None:
    items = []
    for r in world.records:
        for arm in r.arms:
            if arm.type not in COMPARATOR_ARMS:
                continue
            given = arm_interventions(r, arm)
            if not given:
                items.append(((arm.type, None, None), None, r.nct))
            for i in given:
                iv = r.interventions[i]
                items.append(((arm.type, iv.name.lower(), iv.type), iv.name, r.nct))
    names: dict[Any, set[str]] = defaultdict(set)
    trials: dict[Any, set[str]] = defaultdict(set)
    for key, name, nct in items:
        if name is not None:
            names[key].add(name)
        trials[key].add(nct)
    expected = sorted(
        ((k[0], min(names[k]) if names[k] else None, k[2], _n(len(trials[k]))) for k in trials),
        key=lambda row: (row[0], -int(row[3]), _asc(row[1]), _asc(row[2])),
    )
    assert world.run("comparators-used") == expected
    assert {r[0] for r in expected} >= {"ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR"}


def test_co_treatments(world: World) -> None:
    label = "Cyclophosphamide"
    items = []
    for r in world.records:
        matched = {
            i
            for i, iv in enumerate(r.interventions)
            if label.lower() in {n.lower() for n in [iv.name, *iv.other_names]}
        }
        for arm in r.arms:
            given = arm_interventions(r, arm)
            for m in matched & set(given):
                for o in given:
                    if o != m:
                        other = r.interventions[o]
                        items.append(((other.name.lower(), other.type), other.name, r.nct))
    names, trials = _grouped(items)
    expected = _by_trials_desc(((min(names[k]), k[1], _n(len(trials[k]))) for k in trials), 2)
    assert world.run("co-treatments", intervention=label.upper()) == expected
    assert expected


def test_shared_interventions(world: World) -> None:
    # interventions and conditions compared by name in any letter case; an intervention is
    # shown by its lower-cased name
    ivs: dict[str, set[str]] = defaultdict(set)
    conditions: dict[str, set[str]] = defaultdict(set)
    for r in world.records:
        ivs[r.nct] |= {iv.name.lower() for iv in r.interventions}
        conditions[r.nct] |= {c.lower() for c in r.conditions}
    conds: dict[str, set[str]] = defaultdict(set)
    trials: dict[str, set[str]] = defaultdict(set)
    for nct, keys in ivs.items():
        if not conditions[nct]:
            continue
        for key in keys:
            conds[key] |= conditions[nct]
            trials[key].add(nct)
    for least in (2, 3):
        expected = sorted(
            ((k, _n(len(conds[k])), _n(len(trials[k]))) for k in trials if len(conds[k]) >= least),
            key=lambda row: (-int(row[1]), -int(row[2]), row[0]),
        )
        assert world.run("shared-interventions", min_conditions=least) == expected
        assert expected


@pytest.mark.parametrize("condition", CONDITIONS)
def test_condition_co_occurrence(world: World, condition: str | None) -> None:
    # conditions compared by name in any letter case, and shown by their lower-cased names
    trials: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in world.selected(condition):
        keys = {c.lower() for c in r.conditions}
        for a in keys:
            for b in keys:
                if a < b:
                    trials[(a, b)].add(r.nct)
    least = 2 if world.name == "corpus" and condition is None else 1
    expected = sorted(
        ((a, b, _n(len(t))) for (a, b), t in trials.items() if len(t) >= least),
        key=lambda row: (-int(row[2]), row[0], row[1]),
    )
    assert world.run("condition-co-occurrence", condition=condition, min_trials=least) == expected
    assert expected


# --------------------------------------------------------------------------
# Cell therapies: typed by hand here, as the linker would type them at ingest

#: NCT ID -> (intervention name, source tissue IRIs, origin, cell type IRIs), read off the records' own text.
CELLS = {
    "NCT03392311": (
        "adipose-derived multipotent mesenchymal stem cells",
        ["UBERON:0001013"],
        "ALLOGENEIC",
        ["CL:0002570"],
    ),
    "NCT01420432": ("Human umbilical cord-derived MSCs", ["UBERON:0002331"], "ALLOGENEIC", ["CL:0000134"]),
    "NCT03219801": ("mesenchymal stem cells", [], None, ["CL:0000134"]),
}


@pytest.fixture(scope="session")
def cell_store() -> TrialStore:
    store = TrialStore(None)
    quads: list[ox.Quad] = []
    for trial in read_trials([_fixture_records() / "ctgov-classic-json"]):
        assert not isinstance(trial, Exception)
        typed = CELLS.get(trial.nct_id)
        if typed is not None:
            name, sources, origin, cells = typed
            iv = next(i for i in trial.interventions if i.name == name)
            iv.cell_therapy = CellTherapy(
                cell_types=[Link(T.obo_iri(c).value, "CL", LinkMethod.CURATED) for c in cells],
                source_tissues=[Link(T.obo_iri(s).value, "UBERON", LinkMethod.CURATED) for s in sources],
                origin=CellOrigin(origin) if origin else None,
            )
        quads.extend(trial_quads(trial, OPTIONS))
    store.store.bulk_extend(quads)
    store.store.bulk_extend(_fixture_vocab())
    return store


def test_cell_sources_by_condition(cell_store: TrialStore, fixture_world: World) -> None:
    recs = {r.nct: r for r in fixture_world.records if r.format == "ctgov-classic-json"}
    labels = {c: min(ls) for (c, _), ls in fixture_world.vocab.pref.items()}
    for condition in ("D001327", "mesh:D013167", "psoriasis"):
        value = Q.parse_concept(condition)
        iris = {value.iri.value} if value.iri else fixture_world.vocab.concepts(condition)
        label = None if value.iri else condition
        trials: dict[tuple[str | None, str | None], set[str]] = defaultdict(set)
        for nct, (_, sources, origin, _) in CELLS.items():
            if matches_condition(recs[nct], fixture_world.vocab, iris=iris, label=label, exact=False):
                for s in sources or [None]:
                    trials[(T.obo_iri(s).value if s else None, origin)].add(nct)
        expected = _by_trials_desc(
            ((s, labels.get(s) if s else None, o, _n(len(t))) for (s, o), t in trials.items()), 3
        )
        _, rows = Q.run_query("cell-sources-by-condition", {"condition": condition}, store=cell_store)
        assert [tuple(r.values()) for r in rows] == expected, condition
        assert expected, condition


def test_co_treatments_by_cell_type(cell_store: TrialStore, fixture_world: World) -> None:
    """An intervention given as a concept: cell therapies of that cell type or, unless
    exact=true, a narrower one (CL:0002570 is a kind of CL:0000134)."""
    recs = {r.nct: r for r in fixture_world.records if r.format == "ctgov-classic-json"}

    def expected(types: set[str]) -> Rows:
        items = []
        for nct, (name, _, _, cells) in CELLS.items():
            if not types & set(cells):
                continue
            r = recs[nct]
            m = next(i for i, iv in enumerate(r.interventions) if iv.name == name)
            for arm in r.arms:
                given = arm_interventions(r, arm)
                if m in given:
                    for o in given:
                        if o != m:
                            iv = r.interventions[o]
                            items.append(((iv.name.lower(), iv.type), iv.name, nct))
        names, trials = _grouped(items)
        return _by_trials_desc(((min(names[k]), k[1], _n(len(trials[k]))) for k in trials), 2)

    broad = expected({"CL:0000134", "CL:0002570"})
    assert broad, "no co-treatment in the typed trials: the test proves nothing"
    for exact, want in ((False, broad), (True, expected({"CL:0000134"}))):
        _, rows = Q.run_query("co-treatments", {"intervention": "CL:0000134", "exact": exact}, store=cell_store)
        assert [tuple(r.values()) for r in rows] == want
    assert expected({"CL:0000134"}) != broad


# Doses read from the three records' own text (ctgov-classic-json, checked by hand):
# NCT01420432 states "1.0E+6 MSC/kg" in its intervention and its arm description,
# NCT03392311 "2 million cells/kg" in both, NCT03219801's arm "100-300 million allogeneic
# human umbilical cord derived mesenchymal stem cells" (an absolute dose). Phases as
# registered: PHASE1; PHASE1 and PHASE2; EARLY_PHASE1.
UC, AD, MSC, AD_MSC = (T.obo_iri(c).value for c in ("UBERON:0002331", "UBERON:0001013", "CL:0000134", "CL:0002570"))
DOSE_ROWS = [
    (
        "NCT01420432", "PHASE1", "Human umbilical cord-derived MSCs", MSC, UC, "ALLOGENEIC",
        "1000000", None, "cells/kg", "1.0E+6 MSC/kg", None,
    ),
    (
        "NCT03219801", "EARLY_PHASE1", "mesenchymal stem cells", MSC, None, None, "100000000", "300000000", "cells",
        "100-300 million allogeneic human umbilical cord derived mesenchymal stem cells", None,
    ),
    (
        "NCT03392311", "PHASE1", "adipose-derived multipotent mesenchymal stem cells", AD_MSC, AD, "ALLOGENEIC",
        "2000000", None, "cells/kg", "2 million cells/kg", None,
    ),
    (
        "NCT03392311", "PHASE2", "adipose-derived multipotent mesenchymal stem cells", AD_MSC, AD, "ALLOGENEIC",
        "2000000", None, "cells/kg", "2 million cells/kg", None,
    ),
]  # fmt: skip


def test_cell_therapy_doses(cell_store: TrialStore, fixture_world: World) -> None:
    def run(**params: object) -> Rows:
        _, rows = Q.run_query("cell-therapy-doses", params, store=cell_store)
        return [tuple(r.values()) for r in rows]

    assert run() == DOSE_ROWS
    assert run(per_kg=True) == [r for r in DOSE_ROWS if r[8].endswith("/kg")]
    assert run(source="UBERON:0002331") == DOSE_ROWS[:1]
    # CL:0002570 (adipose MSC) is narrower than CL:0000134 in the fixture vocabulary
    assert run(cell_type="CL:0000134") == DOSE_ROWS
    assert run(cell_type="CL:0002570") == DOSE_ROWS[2:]
    assert run(cell_type="CL:0000134", source="UBERON:0001013", per_kg=True) == DOSE_ROWS[2:]
    # a label names vocabulary concepts: "MSC" is CL:0000134's alternative label there
    assert run(cell_type="msc") == DOSE_ROWS
    assert run(source="umbilical cord") == DOSE_ROWS[:1]
    # a term is never matched as a name: "mesenchymal stem cells" names NCT03219801's
    # intervention, but no concept of the vocabulary
    assert run(cell_type="mesenchymal stem cells") == []
    assert [p.variables for p in Q.get_query("cell-therapy-doses").params if p.type is Q.ParamType.term] == [
        ("cell_type_iri", "cell_type_any"),
        ("source_iri", "source_any"),
    ]
    # a cell type broader than another of the same cells is left out when a vocabulary
    # says so: NCT03392311's cells typed CL:0000134 as well as CL:0002570
    also = ox.Quad(
        ox.NamedNode(
            f"{T.trial_iri('NCT03392311').value}/intervention/adipose-derived-multipotent-mesenchymal-stem-cells/cell-therapy"
        ),
        T.cellType,
        ox.NamedNode(MSC),
        next(cell_store.store.quads_for_pattern(None, T.cellType, ox.NamedNode(AD_MSC))).graph_name,
    )
    for with_vocab in (True, False):
        store = ox.Store()
        store.bulk_extend(
            q for q in cell_store.store if with_vocab or not str(q.graph_name).startswith(f"<{T.VOCAB_GRAPH_PREFIX}")
        )
        store.add(also)
        _, rows = Q.run_query("cell-therapy-doses", {}, store=store)
        got = [tuple(r.values()) for r in rows]
        broader = [(*r[:3], MSC, *r[4:]) for r in DOSE_ROWS[2:]]
        # without a vocabulary both types are rows, CL_0000134 first
        both = [*DOSE_ROWS[:2], broader[0], DOSE_ROWS[2], broader[1], DOSE_ROWS[3]]
        assert got == (DOSE_ROWS if with_vocab else both), with_vocab
    # a finer type of *other* cells in the same trial graph leaves a broader type alone: a
    # second cell therapy of NCT01420432, typed CL:0002570, beside its CL:0000134 cells
    trial = T.trial_iri("NCT01420432")
    g = next(cell_store.store.quads_for_pattern(trial, T.intervention, None)).graph_name
    extra = ox.NamedNode(f"{trial.value}/intervention/extra-cells")
    extra_cells = ox.NamedNode(f"{extra.value}/cell-therapy")
    store = ox.Store()
    store.bulk_extend(cell_store.store)
    for s_, p_, o_ in (
        (trial, T.intervention, extra),
        (extra, T.name, ox.Literal("extra cells")),
        (extra, T.cellTherapy, extra_cells),
        (extra_cells, T.cellType, ox.NamedNode(AD_MSC)),
    ):
        store.add(ox.Quad(s_, p_, o_, g))
    _, rows = Q.run_query("cell-therapy-doses", {}, store=store)
    extra_row = ("NCT01420432", "PHASE1", "extra cells", AD_MSC, None, None, None, None, None, None, None)
    assert [tuple(r.values()) for r in rows] == [DOSE_ROWS[0], extra_row, *DOSE_ROWS[1:]]
    recs = {r.nct: r for r in fixture_world.records if r.format == "ctgov-classic-json"}
    for condition in ("D001327", "mesh:D013167", "psoriasis"):
        value = Q.parse_concept(condition)
        iris = {value.iri.value} if value.iri else fixture_world.vocab.concepts(condition)
        label = None if value.iri else condition
        selected = {
            n for n in CELLS if matches_condition(recs[n], fixture_world.vocab, iris=iris, label=label, exact=False)
        }
        assert selected, condition
        assert run(condition=condition) == [r for r in DOSE_ROWS if r[0] in selected], condition


# --------------------------------------------------------------------------
# Source conflicts: NCT04042844 is in the corpus as a classic-API record (January 2022)
# and as a v2 record; the fields compared are those of `trialkg conflicts`.


def _key(field: str, value: Any) -> Any:
    if value is None or (isinstance(value, list | set) and not value):
        return None
    if field in ("brief_title", "sponsor.name"):
        return " ".join(value.casefold().split())
    if field in ("conditions", "interventions", "arms"):
        return frozenset(v.casefold() for v in value)
    if field == "phases":
        return frozenset(value)
    return value


def _fields(r: Record) -> dict[str, Any]:
    return {
        "brief_title": r.title,
        "status": r.status,
        "last_known_status": r.last_known_status,
        "phases": r.phases,
        "study_type": r.study_type,
        "enrollment.count": r.enrollment,
        "completion_date": r.completion,
        "start_date": r.start,
        "sponsor.name": r.sponsor[0] if r.sponsor else None,
        "allocation": r.allocation,
        "intervention_model": r.model,
        "masking": r.masking,
        "eligibility.sex": r.sex,
        "eligibility.min_age": r.min_age,
        "eligibility.max_age": r.max_age,
        "conditions": r.conditions,
        "interventions": [iv.name for iv in r.interventions],
        "arms": [a.label for a in r.arms],
    }


CY, MESNA, CY_SALT = (T.mesh_iri(x).value for x in ("D003520", "D015080", "C999001"))
CY_TEXT = "50 mg/kg on day -3 with mesna 40 mg/kg"
CONDITIONING = "Cyclophosphamide 1.5 g/m2 once"
COMBINED = "Cyclophosphamide 60 mg/kg/day and MSC"
CYTOXAN = "750 mg/m2 every 4 weeks (maximum 2 g) with mesna 400 mg/m2"


def _named(text: str, dose: str, name: str, iri: str, *of: int) -> dict[int, DoseSubstance]:
    """The linker's finding, by hand: ``name`` in ``text`` names the substance of ``dose``,
    which is the concept of the trial's interventions at positions ``of``."""
    return {text.index(dose): DoseSubstance(iri, text.index(name), text.index(name) + len(name), of)}


def _dosed_store() -> TrialStore:
    """Two hand-written trials whose doses are worked out by hand below. The first's
    Cyclophosphamide is linked to its MeSH concept; the arm "Conditioning" names a salt of
    it (a concept the linker finds narrower than it), "Combined" names it."""
    reg = Source(SourceFormat.CTGOV_V2_JSON, "dosed.json", "sha256:0")
    cy = Link(CY, "MESH", LinkMethod.EXACT, matched="Cyclophosphamide")
    trials = [
        Trial(
            nct_id="NCT09900901",
            source=reg,
            phases=[Phase.PHASE2, Phase.PHASE3],
            interventions=[
                Intervention("Cyclophosphamide", InterventionType.DRUG, CY_TEXT, other_names=["Cytoxan"], links=[cy]),
                Intervention("MSC", InterventionType.BIOLOGICAL, "Bone marrow MSCs"),
                # its dose is stated in Cyclophosphamide's text
                Intervention("Mesna", InterventionType.DRUG, None, links=[Link(MESNA, "MESH", LinkMethod.EXACT)]),
            ],
            arms=[
                # gives cyclophosphamide alone
                Arm("Conditioning", None, CONDITIONING, ["Drug: Cyclophosphamide"]),
                # gives two interventions: its doses are an intervention's when they name it
                Arm("Combined", None, COMBINED, ["Drug: Cyclophosphamide", "Biological: MSC"]),
            ],
            dose_substances={
                CY_TEXT: _named(CY_TEXT, "40 mg", "mesna", MESNA, 2),
                CONDITIONING: _named(CONDITIONING, "1.5", "Cyclophosphamide", CY_SALT, 0),
                COMBINED: _named(COMBINED, "60", "Cyclophosphamide", CY, 0),
            },
        ),
        Trial(
            nct_id="NCT09900902",
            source=reg,
            phases=[Phase.PHASE1],
            # linked to no concept: a dose naming a substance stays its own
            interventions=[Intervention("cytoxan", InterventionType.DRUG, CYTOXAN)],
            dose_substances={CYTOXAN: _named(CYTOXAN, "400", "mesna", MESNA)},
        ),
    ]
    store = TrialStore(None)
    for trial in trials:
        store.store.bulk_extend(trial_quads(trial, OPTIONS))
    return store


# (nct_id, phase, name, stated_in, dose, dose_max, unit, dose_text, dose_qualifier,
# dose_substance), read from the texts above: mesna's 40 mg/kg in Cyclophosphamide's text
# is no dose of it; "(maximum 2 g)" is a limit, and its value (2) orders it first
INTERVENTION_DOSE_ROWS = [
    (*p, "Cyclophosphamide", *row)
    for p in (("NCT09900901", "PHASE2"), ("NCT09900901", "PHASE3"))
    for row in (
        ("Combined", "60", None, "mg/kg/day", "Cyclophosphamide 60 mg/kg/day", None, CY),
        ("Conditioning", "1.5", None, "g/m2", "Cyclophosphamide 1.5 g/m2", None, CY_SALT),
        ("intervention", "50", None, "mg/kg", "50 mg/kg", None, None),
    )
] + [
    ("NCT09900902", "PHASE1", "cytoxan", "intervention", "2", None, "g", "maximum 2 g", "AT_MOST", None),
    ("NCT09900902", "PHASE1", "cytoxan", "intervention", "400", None, "mg/m2", "mesna 400 mg/m2", None, MESNA),
    ("NCT09900902", "PHASE1", "cytoxan", "intervention", "750", None, "mg/m2", "750 mg/m2", None, None),
]


def test_intervention_doses() -> None:
    store = _dosed_store()

    def run(**params: object) -> Rows:
        _, rows = Q.run_query("intervention-doses", params, store=store)
        return [tuple(r.values()) for r in rows]

    # "cytoxan" is the first trial's other name and the second trial's name
    assert run(intervention="cytoxan") == INTERVENTION_DOSE_ROWS
    assert run(intervention="Cyclophosphamide") == INTERVENTION_DOSE_ROWS[:6]
    per_kg = [r for r in INTERVENTION_DOSE_ROWS[:6] if "/kg" in r[6]]
    assert run(intervention="cyclophosphamide", per_kg=True) == per_kg and len(per_kg) == 4
    # the MSC's own text states no dose, and its only arm's dose names cyclophosphamide
    assert run(intervention="msc") == []
    # mesna's dose, stated in cyclophosphamide's text
    assert run(intervention="mesna") == [
        (nct, phase, "Mesna", "Cyclophosphamide", "40", None, "mg/kg", "mesna 40 mg/kg", None, MESNA)
        for nct, phase in (("NCT09900901", "PHASE2"), ("NCT09900901", "PHASE3"))
    ]


def test_source_conflicts(world: World) -> None:
    by_trial: dict[str, list[Record]] = defaultdict(list)
    for r in world.records:
        by_trial[r.nct].append(r)
    several = {nct: recs for nct, recs in by_trial.items() if len(recs) > 1}
    assert "NCT04042844" in several
    rows = world.run("source-conflicts")
    found = {(r[0], r[1]) for r in rows}
    assert {nct for nct, _ in found} <= set(several)
    for nct, recs in several.items():
        checked = set(_fields(recs[0]))
        expected = {
            (nct, f) for f in checked if len({k for r in recs if (k := _key(f, _fields(r)[f])) is not None}) > 1
        }
        assert {x for x in found if x[0] == nct and x[1] in checked} == expected, nct
        assert expected
    # each source's values, as its record states them
    status = {(r[2], r[5]) for r in rows if r[0] == "NCT04042844" and r[1] == "status"}
    assert status == {(r.format, r.status) for r in several["NCT04042844"]}
    formats = {r[2] for r in rows}
    assert formats <= {"ctgov-v2-json", "ctgov-classic-json", "ctgov-xml"}
    assert rows == sorted(rows, key=lambda r: (r[0], r[1], _neg(r[4]), r[3], _asc(r[5])))


def _neg(value: str | None) -> tuple[int, list[int]]:
    """DESC order of a date string (unbound last in DESC, as SPARQL orders it)."""
    return (1, []) if value is None else (0, [-ord(c) for c in value])


def test_source_conflicts_for_one_trial(world: World) -> None:
    everything = world.run("source-conflicts")
    one = world.run("source-conflicts", nct_id="NCT04042844")
    assert one == [r for r in everything if r[0] == "NCT04042844"] != []
    assert world.run("source-conflicts", nct_id="NCT00000000") == []


# --------------------------------------------------------------------------
# Concepts by label


@pytest.mark.parametrize("label", ["autoimmune DISEASES", "msc", "Mesenchymal Stem Cell", "no such label"])
def test_concepts_by_label(fixture_world: World, label: str) -> None:
    vocab = fixture_world.vocab
    expected = sorted(
        {(c, g, p) for c, g in vocab.labels.get(label.lower(), ()) for p in (vocab.pref.get((c, g)) or {None})},
        key=lambda row: tuple(_asc(v) for v in row),
    )
    assert fixture_world.run("concepts-by-label", label=label) == expected
    if label != "no such label":
        assert expected


# --------------------------------------------------------------------------
# The catalogue's files


def test_every_query_file_loads_and_names_its_columns(fixture_world: World) -> None:
    catalogue = Q.list_queries()
    names = {q.name for q in catalogue}
    required = {
        "trials-by-condition", "interventions-by-condition", "cell-sources-by-condition", "phase-distribution",
        "enrollment-by-phase", "status-overview", "stale-trials", "sponsors", "countries", "design-summary",
        "trial-timeline", "shared-interventions", "eligibility-age-ranges", "source-conflicts",
        "comparators-used", "co-treatments", "primary-outcomes", "trials-with-results", "condition-co-occurrence",
        Q.LABEL_QUERY, Q.NAMES_QUERY, "condition-trials", "intervention-matches", "trials-with-several-sources",
    }  # fmt: skip
    assert required <= names
    for q in catalogue:
        assert q.title and q.question.endswith(("?", ".")), q.name
        params = {p.name: p.example for p in q.params if p.example is not None}
        variables, _ = Q.run_query(q.name, params, store=fixture_world.store)
        assert variables == list(q.columns), q.name
        assert re.search(r"\bORDER BY\b", q.text), f"{q.name} has no ORDER BY"


def test_files_run_as_they_are_with_default_parameters(fixture_world: World) -> None:
    """A .rq file is a valid query on its own: its VALUES data are the default parameters."""
    for q in Q.list_queries():
        if any(p.required or p.type is Q.ParamType.trial for p in q.params):
            continue  # a required value, or trials another query selects, is not in the file
        defaults = {p.name: p.default for p in q.params if p.default is not None}
        as_is = fixture_world.store.store.query(q.text)
        assert isinstance(as_is, ox.QuerySolutions)
        rows = [tuple(None if s[v] is None else s[v].value for v in q.columns) for s in as_is]
        if any(p.name == "as_of" for p in q.params):
            continue  # "today" is not in the file
        _, bound = Q.run_query(q.name, defaults, store=fixture_world.store)
        assert rows == [tuple(r.values()) for r in bound], q.name


def test_docs_list_every_query() -> None:
    docs = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for q in Q.list_queries():
        assert f"`{q.name}`" in docs, q.name
        assert f"| `{q.name}` |" in readme, f"{q.name} is not in the README's catalogue table"


# --------------------------------------------------------------------------
# Parameters: bound as RDF terms, typed, never pasted into the query


INJECTIONS = [
    'x" } DROP ALL ; #',
    "x' } } ; CLEAR DEFAULT ; #",
    'Psoriasis"@en . } } INSERT DATA { <a:a> <a:b> <a:c> } #',
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_is_harmless(fixture_world: World, value: str) -> None:
    """A parameter is one escaped RDF literal in a VALUES block: the query keeps the file's
    structure, nothing runs but the SELECT, the store is unchanged, and no row matches."""
    store = fixture_world.store.store
    before = sorted(str(q) for q in store.quads_for_pattern(None, None, None, None))
    for query, param in ((Q.LABEL_QUERY, "label"), (Q.NAMES_QUERY, "label"), ("trials-with-several-sources", "nct_id")):
        _, rows = Q.run_query(query, {param: value}, store=fixture_world.store)
        assert rows == [], (query, value)
        text = Q.prepare_query(query, {param: value}, store=fixture_world.store)
        literal = str(ox.Literal(value))
        assert literal in text
        outside = text.replace(literal, '""')
        if param == "label" and value.lower() != value:  # also bound lower-cased, as the lookup key
            key = str(ox.Literal(value.lower()))
            assert key in outside
            outside = outside.replace(key, '""')
        assert outside.count("{") == Q.get_query(query).text.count("{")
        assert outside.count("}") == Q.get_query(query).text.count("}")
        for keyword in ("DROP", "CLEAR", "INSERT"):
            assert keyword not in outside, (query, keyword)
    # a label is looked up by the queries above; queries taking a condition or an
    # intervention get the (no) concepts and names found, never the text
    for query, param in (
        ("condition-trials", "condition"),
        ("intervention-matches", "intervention"),
        ("trials-by-condition", "condition"),
        ("phase-distribution", "condition"),
        ("co-treatments", "intervention"),
    ):
        _, rows = Q.run_query(query, {param: value}, store=fixture_world.store)
        assert rows == [], (query, value)
        text = Q.prepare_query(query, {param: value}, store=fixture_world.store)
        assert "DROP" not in text and "CLEAR" not in text and "INSERT" not in text
    with pytest.raises(QueryError, match="expected an NCT ID"):
        Q.run_query("source-conflicts", {"nct_id": value}, store=fixture_world.store)
    assert sorted(str(q) for q in store.quads_for_pattern(None, None, None, None)) == before


def test_invalid_iri_is_rejected(fixture_world: World) -> None:
    for value in ('http://x" } DROP ALL ; #', "http://exa mple.org/", "https://a>b"):
        with pytest.raises(QueryError, match="not a valid IRI"):
            Q.run_query("trials-by-condition", {"condition": value}, store=fixture_world.store)


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        ("trials-by-condition", {}, "needs the parameter 'condition'"),
        ("trials-by-condition", {"condition": "D001327", "exact": "maybe"}, "expected true or false"),
        ("shared-interventions", {"min_conditions": "two"}, "expected a whole number"),
        ("shared-interventions", {"min_conditions": "2.5"}, "expected a whole number"),
        ("stale-trials", {"as_of": "30/06/2024"}, "expected a date as YYYY-MM-DD"),
        ("phase-distribution", {"phase": "PHASE2"}, "has no parameter 'phase'"),
        ("no-such-query", {}, "no saved query named 'no-such-query'"),
    ],
)
def test_parameter_errors(fixture_world: World, query: str, params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)):
        Q.run_query(query, params, store=fixture_world.store)


@pytest.mark.parametrize(
    ("value", "iri", "label"),
    [
        ("D001327", MESH + "D001327", None),
        ("d1327", None, "d1327"),
        ("D000001327", MESH + "D001327", None),
        ("mesh:D009103", MESH + "D009103", None),
        ("CL:0000134", "http://purl.obolibrary.org/obo/CL_0000134", None),
        ("uberon:0001013", "http://purl.obolibrary.org/obo/UBERON_0001013", None),
        ("DB00531", "https://go.drugbank.com/drugs/DB00531", None),
        ("http://id.nlm.nih.gov/mesh/D001327", MESH + "D001327", None),
        ("Autoimmune Diseases", None, "Autoimmune Diseases"),
        ("COVID-19: long", None, "COVID-19: long"),
    ],
)
def test_concept_parameter_forms(value: str, iri: str | None, label: str | None) -> None:
    parsed = Q.parse_concept(value)
    assert (parsed.iri.value if parsed.iri else None, parsed.label) == (iri, label)


def test_header_layout_is_enforced(tmp_path: Path) -> None:
    cases = {
        "countries.rq": {
            "no-title.rq": ("# title: Countries\n", ""),
            "bad-type.rq": ("| condition |", "| disease |"),
            "mixed-values.rq": ("VALUES ?trial { }", "VALUES (?trial ?other) { }"),
            "unbound-param.rq": ("VALUES ?condition_any { true }", "VALUES ?anything { true }"),
            "bad-default.rq": ("| bool | false |", "| bool | perhaps |"),
        },
        "condition-trials.rq": {
            "no-name-clause.rq": ("VALUES ?condition_name { }", "VALUES ?somethingElse { }"),
            "unbound-exact.rq": ("VALUES (?condition_iri ?exact) { }", "VALUES (?condition_iri) { }"),
            "no-columns.rq": ("# columns: trial, nct_id\n", ""),
            "not-select.rq": ("SELECT DISTINCT ?trial ?nct_id\nWHERE", "CONSTRUCT { ?trial ?p ?nct_id }\nWHERE"),
        },
    }
    for base, edits in cases.items():
        good = (queries_dir() / base).read_text(encoding="utf-8")
        Q.load_query(queries_dir() / base)
        for name, (old, new) in edits.items():
            assert good.count(old) >= 1, name
            path = tmp_path / name
            path.write_text(good.replace(old, new), encoding="utf-8")
            with pytest.raises(QueryError):
                Q.load_query(path)


# --------------------------------------------------------------------------
# Portability: named graphs only, whatever the default graph holds


def _bound_runs() -> list[tuple[str, dict[str, object]]]:
    runs: list[tuple[str, dict[str, object]]] = []
    for q in Q.list_queries():
        example = {p.name: p.example for p in q.params if p.example is not None}
        runs.append((q.name, example))
        if any(p.name == "condition" and not p.required for p in q.params):
            runs.append((q.name, {k: v for k, v in example.items() if k != "condition"}))
    runs.append(("trials-by-condition", {"condition": "autoimmune diseases"}))
    return runs


def test_same_rows_whatever_the_default_graph(world: World) -> None:
    """Every query gives the same rows with the SPARQL default (the default graph is not the
    union of the named graphs), with the union default graph, and with a default graph
    full of decoy trial data."""
    decoy = ox.Store()
    decoy.bulk_extend(world.store.store.quads_for_pattern(None, None, None, None))
    fake = T.trial_iri("NCT99999999")
    for p, o in (
        (T.phase, T.tkg("Phase_PHASE2")),
        (T.overallStatus, T.tkg("Status_UNKNOWN")),
        (T.nctId, ox.Literal("NCT99999999")),
    ):
        decoy.add(ox.Quad(fake, p, o, ox.DefaultGraph()))
    decoy.add(ox.Quad(fake, T.conditionMeshAncestor, T.mesh_iri("D001327"), ox.DefaultGraph()))
    checked = 0
    for name, params in _bound_runs():
        text = Q.prepare_query(name, params, store=world.store)
        results = []
        for store, union in ((world.store.store, False), (world.store.store, True), (decoy, False), (decoy, True)):
            result = store.query(text, use_default_graph_as_union=union)
            assert isinstance(result, ox.QuerySolutions)
            variables = [v.value for v in result.variables]
            results.append([tuple(None if s[v] is None else s[v].value for v in variables) for s in result])
        assert all(r == results[0] for r in results), name
        checked += bool(results[0])
    assert checked > len(Q.list_queries()) // 2


@pytest.mark.server
def test_oxigraph_server_gives_the_same_rows(fixture_world: World, tmp_path: Path) -> None:
    """The catalogue on a real SPARQL server (Oxigraph, default graph not the union) gives
    the same rows, in the same order, as on the embedded store."""
    nquads = ox.serialize(
        fixture_world.store.store.quads_for_pattern(None, None, None, None), format=ox.RdfFormat.N_QUADS
    )
    with running_oxigraph(tmp_path / "oxigraph") as server:
        httpx.post(
            server.store, content=nquads, headers={"Content-Type": "application/n-quads"}, timeout=60
        ).raise_for_status()
        for name, params in _bound_runs():
            here = Q.run_query(name, params, store=fixture_world.store)
            there = Q.run_query(name, params, endpoint=server.query)
            assert there == here, (name, params)


@pytest.mark.server
def test_virtuoso_gives_the_same_rows(fixture_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on Virtuoso (its default graph is not the union either), read back through
    its anonymous endpoint. Virtuoso refuses a query whose *estimated* cost exceeds
    [SPARQL] MaxQueryCostEstimationTime, and its estimates for queries joining several
    GRAPH patterns run to hours on any data (docs/queries.md): the server here runs
    without that limit, as a deployment answering these queries must."""
    monkeypatch.setattr(
        servers,
        "_VIRTUOSO_INI",
        servers._VIRTUOSO_INI.replace("MaxQueryCostEstimationTime = 400", "MaxQueryCostEstimationTime = 0"),
    )
    ts = TrialStore(tmp_path / "store")
    ts.store.bulk_extend(fixture_world.store.store.quads_for_pattern(None, None, None, None))
    ts.flush()
    with running_virtuoso(tmp_path / "virtuoso") as server:
        auth = Credentials(server.user, server.password)
        report = load(ts, server.sparql_auth, graph_store=server.graph_store, auth=auth, vocab=True)
        assert report.graphs_sent == len(ts.named_graphs())
        for name, params in _bound_runs():
            here = Q.run_query(name, params, store=fixture_world.store)
            there = Q.run_query(name, params, endpoint=server.sparql)
            assert there == here, (name, params)


@pytest.mark.server
def test_virtuoso_reads_dose_substances_alike(tmp_path: Path) -> None:
    """intervention-doses on Virtuoso, on the hand-written doses whose substances decide
    the rows (test_intervention_doses): the same rows as on the embedded store."""
    ts = TrialStore(tmp_path / "store")
    ts.store.bulk_extend(_dosed_store().store.quads_for_pattern(None, None, None, None))
    ts.flush()
    with running_virtuoso(tmp_path / "virtuoso") as server:
        auth = Credentials(server.user, server.password)
        load(ts, server.sparql_auth, graph_store=server.graph_store, auth=auth, vocab=True)
        for params in ({"intervention": x} for x in ("cytoxan", "Cyclophosphamide", "mesna", "msc")):
            here = Q.run_query("intervention-doses", params, store=ts)
            there = Q.run_query("intervention-doses", params, endpoint=server.sparql)
            assert there == here, params
        assert [tuple(r.values()) for r in here[1]] == []
        assert [
            tuple(r.values())
            for r in Q.run_query("intervention-doses", {"intervention": "cytoxan"}, endpoint=server.sparql)[1]
        ] == INTERVENTION_DOSE_ROWS


# --------------------------------------------------------------------------
# The command line


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store"
    ts = TrialStore(path)
    ingest(ts, list(_registered_folders(_fixture_records()).values()), options=OPTIONS)
    ts.store.bulk_extend(_fixture_vocab())
    ts.flush()
    del ts
    return path


def test_cli_list(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["query", "--list"])
    assert result.exit_code == 0, result.output
    for q in Q.list_queries():
        assert re.search(rf"^{re.escape(q.name)}\n    {re.escape(q.title)}: ", result.output, re.M), q.name
        assert f"parameters: {Q.describe_params(q.params)}" in result.output
    assert "condition (concept, required), exact (bool, default false)" in result.output


def test_cli_formats(cli: typer.Typer, disk_store: Path, fixture_world: World) -> None:
    args = ["query", "phase-distribution", "-p", "condition=D001327", "--store", str(disk_store)]
    expected = fixture_world.run("phase-distribution", condition="D001327")
    out = {}
    for fmt in ("json", "csv", "tsv", "table"):
        result = CliRunner().invoke(cli, [*args, "--format", fmt])
        assert result.exit_code == 0, result.output
        out[fmt] = result.output
    assert [tuple(r.values()) for r in json.loads(out["json"])] == expected
    assert out["csv"].splitlines() == ["phase,trials"] + [",".join(v or "" for v in r) for r in expected]
    assert out["tsv"].splitlines() == ["phase\ttrials"] + ["\t".join(v or "" for v in r) for r in expected]
    assert f"{len(expected)} rows" in out["table"] and "PHASE" in out["table"]


def test_cli_show_query_binds_terms(cli: typer.Typer, disk_store: Path, fixture_world: World) -> None:
    store = ["--store", str(disk_store)]
    result = CliRunner().invoke(
        cli, ["query", "condition-trials", "-p", "condition=D001327", "-p", "exact=true", "--show-query", *store]
    )
    assert result.exit_code == 0, result.output
    assert "VALUES (?condition_iri ?exact) { (<http://id.nlm.nih.gov/mesh/D001327> true) }" in result.output
    # a condition parameter binds the trials condition-trials selects
    result = CliRunner().invoke(cli, ["query", "countries", "-p", "condition=D001327", "--show-query", *store])
    assert result.exit_code == 0, result.output
    ncts = sorted({r.nct for r in fixture_world.selected("D001327")})
    trials = " ".join(f"<https://w3id.org/trialkg/trial/{n}>" for n in ncts)
    assert f"VALUES ?trial {{ {trials} }}" in result.output
    assert "VALUES ?condition_any { }" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "phase-distribution", "-p", "exact"], "--param takes NAME=VALUE"),
        (["query", "phase-distribution", "-p", "exact=sometimes"], "expected true or false"),
        (["query", "nonsense"], "no saved query named 'nonsense'"),
        (["query"], "give a saved query's name"),
        (["query", "countries", "--list"], "give a query name or --list, not both"),
    ],
)
def test_cli_errors(cli: typer.Typer, disk_store: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--store", str(disk_store)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
