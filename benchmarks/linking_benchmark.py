"""Condition linking measured against the registry's own MeSH indexing.

For every corpus record (ClinicalTrials.gov API v2 JSON, classic JSON and legacy XML,
read with the ``kg.sources`` parsers) that carries registry condition MeSH terms, the
terms are hidden, the conditions are linked from their text alone with the full shared
vocabulary, and the MeSH descriptors linked are compared with the registry's.

Definitions (micro-averaged over (trial, MeSH descriptor) pairs; a trial's set of
predicted descriptors is the union over its conditions, its gold set is the registry's
``condition_mesh`` IDs, or for the legacy XML the ``condition_browse`` headings resolved
to descriptors by exact preferred name):

* strict:  precision = |P ∩ G| / |P|,  recall = |P ∩ G| / |G|.
* hierarchy-aware (the figures the targets refer to): a predicted descriptor counts as
  correct when it is in G or is a MeSH ancestor of a descriptor in G (the registry's
  indexing implies it: a "trials under X" query finds the trial either way); a gold
  descriptor counts as found when it is in P or is a MeSH ancestor of a descriptor in P.
  Ancestors follow the tree numbers of the vocabulary (MeSH 2024). A prediction more
  specific than the registry's term (a descendant) counts as wrong, as does a
  prediction related to gold only as a sibling.
* text ceiling ("ceil."): the share of gold pairs whose descriptor name or an entry term
  occurs in the condition text as a run of whole words (after normalisation), or is an
  ancestor of one that does: the most any linker of condition text by exact names can
  find. Registry terms beyond it were derived from the title or keywords, or by NLM's
  word-level rules ("Sclerosis" from "Multiple Sclerosis", "Acute Disease" from "Acute
  Leukemia"). "R|text" is the hierarchy-aware recall on those findable pairs alone.
* "whole P" is the hierarchy-aware precision of links whose matched term is the whole
  condition text (word order aside); "inside share" is the share of links found inside
  a longer condition name.

Three predictions are scored, with the same definitions: "conditions", the descriptors
linked from the conditions (what the issue's targets refer to); "conditions +
keywords", those together with the trial's keyword links (a keyword whose whole text is
a MeSH disease name or entry term; ``tkg:keywordLink`` in the graph); and "conditions +
titles", an experiment that trialkg does not ship: the brief and official titles are
linked as if they were two more conditions, to measure what reading the titles (from
which the registry takes some of its terms) would gain and cost. The text ceiling of
each counts the texts it reads. Each disagreement is also classed as more specific
than one of the trial's registry terms (a descendant of it) or not.

Usage: python benchmarks/linking_benchmark.py [--shared DIR] [--show N]
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from _machine import describe, markdown

from kg.enums import LinkMethod
from kg.linking import Linker
from kg.linking.normalise import ordered_key, words
from kg.model import Condition, Trial
from kg.sources import SNIFF_BYTES, detect
from kg.vocab import import_paths

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    trials: int = 0
    pred: int = 0
    gold: int = 0
    strict_tp: int = 0
    pred_ok: int = 0
    gold_found: int = 0
    gold_in_text: int = 0
    found_in_text: int = 0
    pred_whole: int = 0
    pred_whole_ok: int = 0
    pred_narrower: int = 0  # disagreements more specific than a registry term (descendants of one)
    gold_unknown: int = 0
    fps: Counter[tuple[str, str]] = field(default_factory=Counter)
    fns: Counter[tuple[str, str]] = field(default_factory=Counter)
    fns_in_text: Counter[tuple[str, str]] = field(default_factory=Counter)  # named in the text, not found

    def add(self, other: Tally) -> None:
        for name in (
            "trials",
            "pred",
            "gold",
            "strict_tp",
            "pred_ok",
            "gold_found",
            "gold_in_text",
            "found_in_text",
            "pred_whole",
            "pred_whole_ok",
            "gold_unknown",
            "pred_narrower",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fps.update(other.fps)
        self.fns.update(other.fns)
        self.fns_in_text.update(other.fns_in_text)

    def line(self, name: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{a / b:.3f}" if b else "  -  "

        return (
            f"{name:<22} {self.trials:>6} {self.gold:>6} {self.pred:>6}  "
            f"{pct(self.strict_tp, self.pred):>6} {pct(self.strict_tp, self.gold):>6}  "
            f"{pct(self.pred_ok, self.pred):>6} {pct(self.gold_found, self.gold):>6}  "
            f"{pct(self.gold_in_text, self.gold):>6} {pct(self.found_in_text, self.gold_in_text):>6}  "
            f"{pct(self.pred_whole_ok, self.pred_whole):>6} {pct(self.pred - self.pred_whole, self.pred):>6}"
        )


def corpus_trials(corpus: Path) -> list[tuple[str, Trial]]:
    out: list[tuple[str, Trial]] = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        module = detect(path.read_bytes()[:SNIFF_BYTES])
        if module is None:
            continue
        out.extend((module.FORMAT.value, t) for t in module.parse(path))
    return out


def gold_of(linker: Linker, trial: Trial) -> tuple[set[str], int]:
    """The registry's condition descriptors (IRIs), and how many XML headings named no
    descriptor of the vocabulary."""
    gold = {linker.mesh_iri(t.id) for t in trial.condition_mesh}
    unknown = 0
    for name in trial.condition_mesh_names:
        hit = linker.index.match_whole(name, ~0).get("MESH")
        if hit is not None and hit.preferred:
            gold.add(hit.concept.iri)
        else:
            unknown += 1
    return gold, unknown


def in_text(linker: Linker, iri: str, condition_words: list[tuple[str, ...]], names: dict[str, list[str]]) -> bool:
    for name in names.get(iri, ()):
        key = ordered_key(words(name))
        if not key:
            continue
        for ws in condition_words:
            text = " " + ordered_key(ws) + " "
            if f" {key} " in text:
                return True
    return False


def _same_words(a: str, b: str) -> bool:
    wa, wb = words(a, drop_parentheses=True), words(b, drop_parentheses=True)
    return wa == wb or sorted(wa) == sorted(wb)


def evaluate(
    linker: Linker, trials: list[tuple[str, Trial]], names: dict[str, list[str]]
) -> tuple[dict[str, dict[str, Tally]], int]:
    """Hide each trial's registry condition terms, link it, and score the MeSH
    descriptors linked against the registry's. Two predictions per trial: the
    conditions' links alone ("conditions"), and those with the trial's keyword links
    ("conditions + keywords"); the text ceiling of each counts the texts it reads."""
    out: dict[str, dict[str, Tally]] = {
        "conditions": defaultdict(Tally),
        "conditions + keywords": defaultdict(Tally),
        "conditions + titles": defaultdict(Tally),
    }
    n_linked = 0
    for fmt, trial in trials:
        gold, unknown = gold_of(linker, trial)
        if not gold:
            continue
        hidden = _hidden(trial)
        linker.link(hidden)
        n_linked += 1
        pred, whole = _condition_links(hidden)
        cond_words = [words(c.name, drop_parentheses=True) for c in trial.conditions]
        tally = score(
            linker, gold=gold, unknown=unknown, pred=pred, whole=whole, text_words=cond_words, names=names, trial=trial
        )
        out["conditions"][fmt].add(tally)
        with_kw = dict(pred)
        kw_whole = set(whole)
        for link in hidden.keyword_links:
            if link.vocabulary == "MESH" and link.iri not in with_kw:
                with_kw[link.iri] = f"keyword {link.matched}"
                kw_whole.add(link.iri)  # keywords are matched whole
        kw_words = cond_words + [words(k, drop_parentheses=True) for k in trial.keywords]
        tally = score(
            linker,
            gold=gold,
            unknown=unknown,
            pred=with_kw,
            whole=kw_whole,
            text_words=kw_words,
            names=names,
            trial=trial,
        )
        out["conditions + keywords"][fmt].add(tally)
        titles = [t for t in (trial.brief_title, trial.official_title) if t]
        with_titles = _hidden(trial)
        with_titles.conditions.extend(Condition(name=t) for t in titles)
        linker.link(with_titles)
        title_pred, title_whole = _condition_links(with_titles)
        n_cond = len(trial.conditions)
        for c in with_titles.conditions[n_cond:]:
            for link in c.links:
                if link.vocabulary == "MESH" and link.iri in title_pred and link.iri not in pred:
                    title_pred[link.iri] = f"title {c.name[:70]}"
        tally = score(
            linker,
            gold=gold,
            unknown=unknown,
            pred=title_pred,
            whole=title_whole,
            text_words=cond_words + [words(t, drop_parentheses=True) for t in titles],
            names=names,
            trial=trial,
        )
        out["conditions + titles"][fmt].add(tally)
    return out, n_linked


def _hidden(trial: Trial) -> Trial:
    """A copy of ``trial`` without the registry's condition terms and without links."""
    hidden = copy.deepcopy(trial)
    hidden.condition_mesh = []
    hidden.condition_mesh_ancestors = []
    hidden.condition_mesh_names = []
    for c in hidden.conditions:
        c.links = []
    hidden.keyword_links = []
    return hidden


def _condition_links(trial: Trial) -> tuple[dict[str, str], set[str]]:
    """The MeSH descriptors linked from ``trial``'s conditions (each with the first
    condition it came from), and those whose matched term is a whole condition."""
    pred: dict[str, str] = {}
    whole: set[str] = set()
    for c in trial.conditions:
        for link in c.links:
            if link.vocabulary == "MESH" and link.method is not LinkMethod.REGISTRY:
                pred.setdefault(link.iri, c.name)
                if _same_words(link.matched or "", c.name):
                    whole.add(link.iri)
    return pred, whole


def score(
    linker: Linker,
    *,
    gold: set[str],
    unknown: int,
    pred: dict[str, str],
    whole: set[str],
    text_words: list[tuple[str, ...]],
    names: dict[str, list[str]],
    trial: Trial,
) -> Tally:
    """One trial's tally: ``pred`` maps each linked descriptor to the text it came from."""
    tally = Tally(trials=1, pred=len(pred), gold=len(gold), gold_unknown=unknown)
    anc = linker.index.ancestors
    gold_anc = set().union(*(anc(g) for g in gold))
    pred_anc = set().union(*(anc(p) for p in pred)) if pred else set()
    findable = {g for g in gold if in_text(linker, g, text_words, names)}
    findable_anc = set().union(*(anc(f) for f in findable)) if findable else set()
    for p, cond in pred.items():
        tally.strict_tp += p in gold
        tally.pred_whole += p in whole
        if p in gold or p in gold_anc:
            tally.pred_ok += 1
            tally.pred_whole_ok += p in whole
        else:
            tally.fps[(cond, linker._label(p) or p)] += 1
            tally.pred_narrower += any(g in anc(p) for g in gold)
    conditions = " | ".join(c.name for c in trial.conditions)[:120]
    for g in gold:
        found = g in pred or g in pred_anc
        named = g in findable or g in findable_anc
        tally.gold_found += found
        tally.gold_in_text += named
        tally.found_in_text += found and named
        if not found:
            tally.fns[(linker._label(g) or g, conditions)] += 1
            if named:
                tally.fns_in_text[(linker._label(g) or g, conditions)] += 1
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_shared = Path(os.environ.get("TRIALKG_SHARED", ROOT.parent / "shared"))
    ap.add_argument("--shared", type=Path, default=default_shared, help="shared material (corpus/ and vocab/)")
    ap.add_argument("--show", type=int, default=0, help="print the N most frequent misses of each kind")
    args = ap.parse_args()
    corpus, vocab = args.shared / "corpus", args.shared / "vocab"
    if not corpus.is_dir() or not vocab.is_dir():
        print(f"no corpus/ and vocab/ under {args.shared}", file=sys.stderr)
        return 2

    print("== machine")
    print(markdown(describe("pyoxigraph")))
    git = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, check=False, capture_output=True, text=True)
    print(f"- trialkg commit: {commit.stdout.strip() or 'unknown'}")

    print("\n== vocabulary")
    store = ox.Store()
    t0 = time.perf_counter()
    report = import_paths(store, [vocab])
    t_import = time.perf_counter() - t0
    for v in report.vocabularies:
        print(f"{v.vocabulary:<14} {v.concepts:>7} concepts {v.quads:>8} quads {'' if v.written else v.reason}")
    print(f"import     {t_import:.1f} s")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        linker = Linker.from_store(store, cache_dir=Path(cache))
        t_index = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        Linker.from_store(store, cache_dir=Path(cache))
        t_cache = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(cache).iterdir())
    print(
        f"index      built in {t_index:.1f} s ({len(linker.index.concepts)} concepts, "
        f"peak RSS +{(rss1 - rss0) // 1024} MB over the store); "
        f"read from its cache ({size / 2**20:.0f} MB) in {t_cache:.1f} s"
    )

    # all names and entry terms per descriptor, for the text ceiling
    names: dict[str, list[str]] = defaultdict(list)
    for table in (linker.index.ordered,):
        for entries in table.values():
            for ci, term, _pref, _cur in entries:
                c = linker.index.concepts[ci]
                if c.vocabulary == "MESH":
                    names[c.iri].append(term)

    t0 = time.perf_counter()
    trials = corpus_trials(corpus)
    t_parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    by_format, n_linked = evaluate(linker, trials, names)
    t_link = time.perf_counter() - t0

    print(f"\n== corpus: {len(trials)} records parsed in {t_parse:.1f} s; {n_linked} carry registry condition MeSH")
    print(f"linking    {t_link:.1f} s ({1000 * t_link / max(n_linked, 1):.1f} ms per trial)")
    for variant, tallies in by_format.items():
        print(f"\n== {variant}: linking vs registry MeSH (micro-averaged over (trial, descriptor) pairs)")
        print(
            f"{'':<22} {'trials':>6} {'gold':>6} {'pred':>6}  {'strict':^13}  {'hierarchy':^13}  "
            f"{'text':^13}  {'whole':>6} {'inside':>6}"
        )
        print(
            f"{'format':<22} {'':>6} {'':>6} {'':>6}  {'P':>6} {'R':>6}  {'P':>6} {'R':>6}  "
            f"{'ceil.':>6} {'R|text':>6}  {'P':>6} {'share':>6}"
        )
        total = Tally()
        for fmt in sorted(tallies):
            print(tallies[fmt].line(fmt))
            total.add(tallies[fmt])
        print(total.line("all"))
        if total.gold_unknown:
            print(
                f"({total.gold_unknown} legacy-XML headings name no descriptor of the vocabulary and are not counted)"
            )
        if args.show:
            print(f"\n== {variant}: {args.show} most frequent predictions the registry does not imply (text -> linked)")
            for (cond, label), n in total.fps.most_common(args.show):
                print(f"{n:>4}  {cond} -> {label}")
            print(f"\n== {variant}: {args.show} most frequent registry terms not found (term <- conditions)")
            for (label, conds), n in total.fns.most_common(args.show):
                print(f"{n:>4}  {label} <- {conds}")
            print(f"\n== {variant}: {args.show} most frequent registry terms named in the text but not found")
            for (label, conds), n in total.fns_in_text.most_common(args.show):
                print(f"{n:>4}  {label} <- {conds}")
        wrong = total.pred - total.pred_ok
        print(
            f"disagreements: {wrong} links the registry does not imply, {total.pred_narrower} of them "
            "more specific than one of the trial's registry terms"
        )
        p = total.pred_ok / total.pred if total.pred else 0.0
        r = total.gold_found / total.gold if total.gold else 0.0
        print(f"\n{variant}: hierarchy-aware precision {p:.3f} (target >= 0.95), recall {r:.3f} (target >= 0.85)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
