"""The substance a dose is stated for: the drug or chemical named right before a dose
("with mesna 40 mg/kg" under Cyclophosphamide) is found by the linker at ingest, kept as
the dose's ``tkg:doseSubstance``, shown, and used by the intervention-doses query.

The phrases are quoted from corpus records (the NCT ID says which); the small MeSH tables
below are rows of MeSH 2024's descriptor terms and tree numbers (../shared/vocab/mesh),
copied by hand; expected concepts are read from those rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg import queries as Q
from kg import terms as T
from kg.cli import app
from kg.dosing import find_doses
from kg.linking import Linker
from kg.linking.index import Domain
from kg.reader import read_trials
from kg.store import TrialStore
from kg.vocab import import_paths
from tests.vocab_support import shared_linker

_TERMS_HEAD = (
    "DescriptorUI\tDescriptorName\tConceptUI\tTermUI\tTermName\tConceptPreferredTermYN\t"
    "IsPermutedTermYN\tLexicalTag\tRecordPreferredTermYN"
)
_TERMS = [
    "D015080\tMesna\tM0025070\tT044962\tMesna\tY\tN\tNON\tY",
    "D003520\tCyclophosphamide\tM0005364\tT010608\tCyclophosphamide\tY\tN\tNON\tY",
    "D003520\tCyclophosphamide\tM0005364\tT010609\tCytoxan\tN\tN\tTRD\tN",
    "D013607\tTablets\tM0020944\tT039938\tTablets\tY\tN\tNON\tY",
    "D000961\tAntilymphocyte Serum\tM0001464\tT002947\tAntilymphocyte Serum\tY\tN\tNON\tY",
    "D000961\tAntilymphocyte Serum\tM0001465\tT553310\tAnti-Thymocyte Globulin\tN\tN\tNON\tN",
    "D009288\tNaproxen\tM0014594\tT027748\tNaproxen\tY\tN\tNON\tY",
    "D001418\tBaclofen\tM0002199\tT004142\tBaclofen\tY\tN\tNON\tY",
]
_TREES_HEAD = "DescriptorUI\tDescriptorName\ttree_location\tcode\tcats\tmesh1\tmesh2\ttree1\ttree2"
_TREES = [
    "D015080\tMesna\tD02.886.489.590\tD\tChemicals and Drugs\tOrganic Chemicals\tSulfur Compounds\tD02\tD02.886",
    "D003520\tCyclophosphamide\tD02.705.672.500.243\tD\tChemicals and Drugs\tOrganic Chemicals\t"
    "Organophosphorus Compounds\tD02\tD02.705",
    "D013607\tTablets\tD26.255.830\tD\tChemicals and Drugs\tPharmaceutical Preparations\tDosage Forms\tD26\tD26.255",
    "D000961\tAntilymphocyte Serum\tD12.776.124.486.485.114.573.203\tD\tChemicals and Drugs\t"
    "Amino Acids, Peptides, and Proteins\tProteins\tD12\tD12.776",
    "D009288\tNaproxen\tD04.615.638.472.450\tD\tChemicals and Drugs\tPolycyclic Compounds\t"
    "Polycyclic Aromatic Hydrocarbons\tD04\tD04.615",
    "D001418\tBaclofen\tD02.241.081.114.500.350.100\tD\tChemicals and Drugs\tOrganic Chemicals\t"
    "Carboxylic Acids\tD02\tD02.241",
]
MESNA, CY, ATG, NAPROXEN, BACLOFEN = (
    T.mesh_iri(x).value for x in ("D015080", "D003520", "D000961", "D009288", "D001418")
)


def _write_vocab(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mesh_terms.tsv").write_text("\n".join([_TERMS_HEAD, *_TERMS]) + "\n", encoding="utf-8")
    (folder / "mesh_trees.tsv").write_text("\n".join([_TREES_HEAD, *_TREES]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Linker:
    store = ox.Store()
    import_paths(store, [_write_vocab(tmp_path_factory.mktemp("vocab"))])
    linker = Linker.from_store(store)
    assert linker.index.match_whole("mesna", Domain.CHEMICAL)["MESH"].concept.iri == MESNA
    return linker


# (text, [(the words of each dose, the substance named before it, as the words it is named by)])
CASES = [
    # NCT02582775 (Cyclophosphamide): its own doses name nothing, mesna's follows "with mesna"
    (
        "14.5 mg/kg IV over 1 hour day -6 and -5 50 mg/kg IV over 2 hours with mesna 40 mg/kg IV day +2 and +3",
        # ("-5 50 mg/kg" is not read: "5 50" could be 550 with its thousands spaced)
        [("14.5 mg/kg", None), ("40 mg/kg", (MESNA, "mesna"))],
    ),
    # NCT05021718: two drugs, each dose in brackets after its name
    (
        "Naproxen (500 mg) and Baclofen (10 mg) tablet twice a day for three weeks",
        [("500 mg", (NAPROXEN, "Naproxen")), ("10 mg", (BACLOFEN, "Baclofen"))],
    ),
    # NCT02407470: linking words between the name and the dose; an entry term, hyphenated
    (
        "rabbit anti-thymocyte globulin at 3.5 mg/kg/dose IV from day -6",
        [("3.5 mg/kg/dose", (ATG, "anti-thymocyte globulin"))],
    ),
    # NCT02498912: linking words before the name are not part of it ("of cyclophosphamide")
    (
        "lymphodepleting cyclophosphamide dose of 750 mg/m^2 or a regimen of cyclophosphamide dose 300 mg/m2 x 3 days",
        [("750 mg/m^2", (CY, "cyclophosphamide")), ("300 mg/m2", (CY, "cyclophosphamide"))],
    ),
    # NCT04515394: a dosage form is no substance ("tablets" is MeSH D26.255.830)
    ("two tablets of 250 mg once daily", [("250 mg", None)]),
    # other words between name and dose: the dose is not the named drug's for sure
    ("Cyclophosphamide on day 1, then 500 mg on day 8", [("500 mg", None)]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[t[:40] for t, _ in CASES])
def test_the_substance_named_before_a_dose(mini: Linker, text: str, expected: list[tuple[str, object]]) -> None:
    got = []
    for d in find_doses(text):
        sub = mini.substance_before(text, d.start)
        got.append((d.text, None if sub is None else (sub.iri, text[sub.start : sub.end])))
    assert got == expected


def _record(nct: str, interventions: list[dict[str, str]], arms: list[dict[str, object]]) -> dict[str, object]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": "Doses of named substances"},
            "designModule": {"phases": ["PHASE2"]},
            "armsInterventionsModule": {"interventions": interventions, "armGroups": arms},
        }
    }


@pytest.fixture(scope="module")
def named_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the small MeSH tables and one hand-written v2 record whose texts are
    NCT02582775's: Cyclophosphamide states mesna's dose; an arm gives it with an MSC
    infusion and names it before its own dose."""
    tmp = tmp_path_factory.mktemp("named")
    record = _record(
        "NCT09900978",
        [
            {"type": "DRUG", "name": "Cyclophosphamide", "description": "50 mg/kg IV with mesna 40 mg/kg IV day +2"},
            {"type": "BIOLOGICAL", "name": "MSC infusion", "description": "Donor mesenchymal stem cells"},
        ],
        [
            {
                "label": "Conditioning and MSC",
                "type": "EXPERIMENTAL",
                "description": "Cyclophosphamide 14.5 mg/kg IV day -6, then MSC infusion",
                "interventionNames": ["Drug: Cyclophosphamide", "Biological: MSC infusion"],
            }
        ],
    )
    (tmp / "NCT09900978.json").write_text(json.dumps(record), encoding="utf-8")
    store = tmp / "store"
    runner = CliRunner()
    result = runner.invoke(app, ["vocab", "import", "--store", str(store), str(_write_vocab(tmp / "vocab"))])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["ingest", "--store", str(store), str(tmp / "NCT09900978.json")])
    assert result.exit_code == 0, result.output
    return store


def test_show_gives_each_dose_its_substance(named_store: Path) -> None:
    result = CliRunner().invoke(app, ["show", "NCT09900978", "--store", str(named_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    (cy,) = [iv for iv in rec["interventions"] if iv["name"] == "Cyclophosphamide"]
    assert [(d["value"], d["unit"], d["substance"], d["text"]) for d in cy["doses"]] == [
        (50, "mg/kg", None, "50 mg/kg"),
        (40, "mg/kg", MESNA, "mesna 40 mg/kg"),
    ]
    (arm,) = rec["arms"]
    assert [(d["value"], d["substance"], d["text"]) for d in arm["doses"]] == [
        (14.5, CY, "Cyclophosphamide 14.5 mg/kg")
    ]
    result = CliRunner().invoke(app, ["show", "NCT09900978", "--store", str(named_store)])
    assert f'dose: 40 mg/kg of <{MESNA}> ("mesna 40 mg/kg")' in result.output


def test_intervention_doses_use_the_substance(named_store: Path) -> None:
    """Cyclophosphamide's doses: its own 50 mg/kg and the shared arm's 14.5 mg/kg, which
    names it; not mesna's 40 mg/kg. The MSC infusion gets no dose: the arm's names
    cyclophosphamide."""
    ts = TrialStore(named_store, read_only=True)
    _, rows = Q.run_query("intervention-doses", {"intervention": "D003520"}, store=ts)
    assert [(r["stated_in"], r["dose"], r["unit"], r["dose_text"], r["dose_substance"]) for r in rows] == [
        ("Conditioning and MSC", "14.5", "mg/kg", "Cyclophosphamide 14.5 mg/kg", CY),
        ("intervention", "50", "mg/kg", "50 mg/kg", None),
    ]
    _, rows = Q.run_query("intervention-doses", {"intervention": "MSC infusion"}, store=ts)
    assert rows == []


def test_corpus_substances(vocab_dir: Path, corpus_dir: Path) -> None:
    """With the shared vocabulary: NCT02582775's Cyclophosphamide text names mesna before
    40 mg/kg (MeSH D015080), and over the whole corpus every substance found is a MeSH
    drug or chemical, named in the words right before its dose."""
    linker = shared_linker(vocab_dir)
    (trial,) = read_trials([corpus_dir / "ctgov-classic-json" / "NCT02582775.json"])
    linker.link(trial)
    (cy,) = [iv for iv in trial.interventions if iv.name == "Cyclophosphamide"]
    assert cy.description is not None
    named = {d.text: trial.dose_substances.get(cy.description, {}).get(d.start) for d in find_doses(cy.description)}
    assert {k: (v.iri if v else None) for k, v in named.items()} == {
        "14.5 mg/kg": None,
        "40 mg/kg": MESNA,
    }
    found = 0
    for t in read_trials([corpus_dir]):
        assert not isinstance(t, Exception), t
        linker.link(t)
        for text, by_start in t.dose_substances.items():
            for start, sub in by_start.items():
                found += 1
                where = (t.nct_id, text[sub.start : start + 10])
                assert sub.iri.startswith(T.MESH_NS), where
                # only a few words, and no number, between the name and the dose
                gap = text[sub.end : start]
                assert sub.end <= start and len(gap) <= 40 and not any(c.isdigit() for c in gap), where
                concept = linker.index.concept(sub.iri)
                assert concept is not None and not any(tn.startswith("D26") for tn in concept.trees), where
    assert found > 100  # 135 in intervention texts and about 190 in arm texts when written
