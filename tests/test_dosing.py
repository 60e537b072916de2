"""Doses read from intervention and arm text (kg.dosing), the graph they become, and what
`trialkg show` gives back.

Each phrase below is quoted from a real record (the NCT ID says which; the seeds are in
examples/pages) or written to show a trap; the expected values are worked out by hand
from the words, not read from the code."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg import terms as T
from kg.cli import app
from kg.dosing import find_doses
from kg.enums import DoseBasis, DoseQualifier, InterventionType, SourceFormat
from kg.mapping import MappingOptions, trial_quads
from kg.model import Arm, CellTherapy, Intervention, Source, Trial
from kg.reader import read_trials

KG = DoseBasis.BODY_WEIGHT
M2 = DoseBasis.BODY_SURFACE_AREA
ROOT = Path(__file__).resolve().parent.parent

# (text, [(value, max value or None, unit, basis, words read)])
FOUND = [
    # seeds 000 and 001 (ClinicalTrials.Veeva and Basic Information pages)
    (
        "AD-MSCs(adipose-derived multipotent mesenchymal stem cells ) intravenous injection at a dose of "
        "2 million cells/kg at week 0, week 2, week 4, week 6, week 8",
        [("2000000", None, "cells/kg", KG, "2 million cells/kg")],
    ),
    # seed 003: E-notation, and "MSC" as the cells
    (
        "Human umbilical cord-derived MSCs at a dose of 1.0E+6 MSC/kg, repeated after three months",
        [("1000000", None, "cells/kg", KG, "1.0E+6 MSC/kg")],
    ),
    # seed 004: a range with one scale, an absolute dose, cells described by eight words
    (
        "In the treated group, 100-300 million allogeneic human umbilical cord derived mesenchymal stem cells "
        "were infused intravenously for one SLE patient.",
        [
            (
                "100000000",
                "300000000",
                "cells",
                None,
                "100-300 million allogeneic human umbilical cord derived mesenchymal stem cells",
            )
        ],
    ),
    # NCT04835519: CAR-T dose levels, with an escaped caret and a tolerance in brackets
    (
        "Dose 1 (DL-1) was 5×10\\^5 (±20%) CAR T cells/kg, and dose 2 (DL-2) was 1×10\\^6 (±20%) CAR T cells/kg.",
        [
            ("500000", None, "cells/kg", KG, "5×10\\^5 (±20%) CAR T cells/kg"),
            ("1000000", None, "cells/kg", KG, "1×10\\^6 (±20%) CAR T cells/kg"),
        ],
    ),
    # superscripts lost by the registry: "x 106" is 10 to the 6th (NCT01275612), even glued to
    # the next word (NCT03265444)
    ("infusion of donor ex-vivo expanded MSC (1 x 106 MSC/kg).", [("1000000", None, "cells/kg", KG, "1 x 106 MSC/kg")]),
    (
        "Step 1 dose : 3.0x105cells/kg; Step 2 dose : 6.0x105cells/kg",
        [("300000", None, "cells/kg", KG, "3.0x105cells/kg"), ("600000", None, "cells/kg", KG, "6.0x105cells/kg")],
    ),
    # "10E6" after a multiplication sign: ten to the sixth, as these records mean it (NCT04273646)
    (
        "4 times of UC-MSCs(0.5*10E6 UC-MSCs/kg body weight intravenously)",
        [("500000", None, "cells/kg", KG, "0.5*10E6 UC-MSCs/kg body weight")],
    ),
    # a nominal value with a tolerance, and per recipient body weight (NCT01764100)
    (
        "a dose of 1 ± 0.5 x 106 MSC/kg recipient body weight",
        [("1000000", None, "cells/kg", KG, "1 ± 0.5 x 106 MSC/kg")],
    ),
    # a list of scaled numbers sharing one unit (NCT05739409)
    (
        "infused with a escalated dose of 1E6#3E6#6E6#1E7 cells/kg",
        [
            ("1000000", None, "cells/kg", KG, "1E6 (cells/kg)"),
            ("3000000", None, "cells/kg", KG, "3E6 (cells/kg)"),
            ("6000000", None, "cells/kg", KG, "6E6 (cells/kg)"),
            ("10000000", None, "cells/kg", KG, "1E7 cells/kg"),
        ],
    ),
    # a range whose scale is written once, after both ends (NCT02650414)
    (
        "Subjects <50kg will receive 0.2-1 x 10\\^7 CART22 cells/kg as a split dose",
        [("2000000", "10000000", "cells/kg", KG, "0.2-1 x 10\\^7 CART22 cells/kg")],
    ),
    # the cells named twice, in brackets (NCT03504241), or only in brackets (NCT00768066)
    (
        "10^4 donor-derived Mesenchymal Stromal Cells (MSCs) cells/kg every 4-weeks.",
        [("10000", None, "cells/kg", KG, "10^4 donor-derived Mesenchymal Stromal Cells (MSCs) cells/kg")],
    ),
    ("1 x 108 (100 million) hMSCs", [("100000000", None, "cells", None, "1 x 108 (100 million) hMSCs")]),
    # a middle dot as the decimal point (NCT02249676)
    ("MSC a day-case 2·0×106 cells/kg i.v. 15min", [("2000000", None, "cells/kg", KG, "2·0×106 cells/kg")]),
    # other notations of a power of ten
    (
        "1,000,000 cells per kilogram; 2.5 × 10⁶ cells/kg; 1 x 10(6) cells/kg; 10**6 cells",
        [
            ("1000000", None, "cells/kg", KG, "1,000,000 cells per kilogram"),
            ("2500000", None, "cells/kg", KG, "2.5 × 10⁶ cells/kg"),
            ("1000000", None, "cells/kg", KG, "1 x 10(6) cells/kg"),
            ("1000000", None, "cells", None, "10**6 cells"),
        ],
    ),
    # drugs: per body weight and day, per body surface area, fixed doses, radiation (the
    # "150μg/kg/d" of NCT03083743, the others written to show each unit)
    (
        "Methotrexate 15 mg weekly; cyclophosphamide 10 mg/kg/day; 50 mg/m2 on day 1; 150μg/kg/d; "
        "0.5 mg/kg body weight; 60 Gy in 30 fractions; 1500 IU",
        [
            ("15", None, "mg", None, "15 mg"),
            ("10", None, "mg/kg/day", KG, "10 mg/kg/day"),
            ("50", None, "mg/m2", M2, "50 mg/m2"),
            ("150", None, "µg/kg/day", KG, "150μg/kg/d"),
            ("0.5", None, "mg/kg", KG, "0.5 mg/kg body weight"),
            ("60", None, "Gy", None, "60 Gy"),
            ("1500", None, "IU", None, "1500 IU"),
        ],
    ),
    # a volume per body weight (NCT04590118: "Single intravenous infusion of 1 ml/kg placebo")
    ("Single intravenous infusion of 1 ml/kg placebo", [("1", None, "mL/kg", KG, "1 ml/kg")]),
    ("0.8-1.8g daily", [("0.8", "1.8", "g", None, "0.8-1.8g")]),  # NCT00698191
    # plain numbers before a scaled one take its scale when the list is opened as doses
    # are ("of", "either", a bracket) and ends in "or" or "and" (NCT03828344, NCT01851070,
    # NCT02917291, NCT01771679, NCT01775774)
    (
        "BX-U001 (hUC-MSC suspension) will be tested at dose of 0.75 or 1.5×10^6 cells/kg of body weight",
        [
            ("750000", None, "cells/kg", KG, "0.75 or 1.5×10^6 cells/kg of body weight"),
            ("1500000", None, "cells/kg", KG, "1.5×10^6 cells/kg of body weight"),
        ],
    ),
    (
        "Mesenchymal Precursor Cells (MPCs), either 1.0 or 2.0 million cells/kg, will be delivered",
        [
            ("1000000", None, "cells/kg", KG, "1.0 or 2.0 million cells/kg"),
            ("2000000", None, "cells/kg", KG, "2.0 million cells/kg"),
        ],
    ),
    (
        "(Ph 2) Intramedullary administration of the maximum tolerated dose (20 or 40 million cells)",
        [
            ("20000000", None, "cells", None, "20 or 40 million cells"),
            ("40000000", None, "cells", None, "40 million cells"),
        ],
    ),
    (
        "IV infusion of Allogeneic Mesenchymal Bone Marrow Cells "
        "(0.5, 1.0, or 1.5 million cells/kg, up to 150 million cells)",
        [
            ("500000", None, "cells/kg", KG, "0.5, 1.0, or 1.5 million cells/kg"),
            ("1000000", None, "cells/kg", KG, "1.0, or 1.5 million cells/kg"),
            ("1500000", None, "cells/kg", KG, "1.5 million cells/kg"),
            ("150000000", None, "cells", None, "up to 150 million cells"),  # a limit: see QUALIFIED
        ],
    ),
    (
        "3 cohorts with 3 subjects/cohort who receive doses of 1, 5 and 10 million cells/kg predicted body weight",
        [
            ("1000000", None, "cells/kg", KG, "1, 5 and 10 million cells/kg"),
            ("5000000", None, "cells/kg", KG, "5 and 10 million cells/kg"),
            ("10000000", None, "cells/kg", KG, "10 million cells/kg"),
        ],
    ),
    # a list of scaled numbers with ", and" (NCT02866721)
    (
        "The three doses are 1 x 10^6, 3 x 10^6, and 5 x 10^6 hMSCs/kg.",
        [
            ("1000000", None, "cells/kg", KG, "1 x 10^6 (hMSCs/kg)"),
            ("3000000", None, "cells/kg", KG, "3 x 10^6 (hMSCs/kg)"),
            ("5000000", None, "cells/kg", KG, "5 x 10^6 hMSCs/kg"),
        ],
    ),
    # the cells' bracketed abbreviation before the basis (NCT00562497, NCT03186417), "kgBW"
    # (NCT04501341), and "units of ... cells" (NCT03800810, NCT04457609)
    (
        "infusions of Prochymal® 2x10^6 human mesenchymal stem cells (hMSC)/kg IV during the first",
        [("2000000", None, "cells/kg", KG, "2x10^6 human mesenchymal stem cells (hMSC)/kg")],
    ),
    (
        "2 million human MSC (hMSC)/kg infusion versus",
        [("2000000", None, "cells/kg", KG, "2 million human MSC (hMSC)/kg")],
    ),
    ("Dosage: 2 x 10^6 cells/kgBW, twice", [("2000000", None, "cells/kg", KG, "2 x 10^6 cells/kgBW")]),
    (
        "Intraarticular injection of 10x10^6 unit of umbilical cord mesenchymal stem cells in 2 ml conditioned medium",
        [("10000000", None, "cells", None, "10x10^6 unit of umbilical cord mesenchymal stem cells")],
    ),
    (
        "infusion of 1x10^6 unit of umbilical-cord derived mesenchymal stem cells (UC-MSCs)/kgBW in 100 cc",
        [
            (
                "1000000",
                None,
                "cells/kg",
                KG,
                "1x10^6 unit of umbilical-cord derived mesenchymal stem cells (UC-MSCs)/kgBW",
            )
        ],
    ),
    ("2 x 10^6 MSCs (in 5 mL saline)", [("2000000", None, "cells", None, "2 x 10^6 MSCs")]),
    # grams that are doses, next to the words that mark gauges and tissue amounts
    ("methylprednisolone 1 g x 3 days", [("1", None, "g", None, "1 g")]),
    ("2 g of cefazolin before the needle is inserted", [("2", None, "g", None, "2 g")]),
    ("MP 2.0g to Pred 30mg", [("2", None, "g", None, "2.0g"), ("30", None, "mg", None, "30mg")]),
    # "between ... and ..." is a range (NCT01933802)
    (
        "Autologous MSC-NPs administered intrathecally at a dose between 2 and 10 million cells, depending",
        [("2000000", "10000000", "cells", None, "2 and 10 million cells")],
    ),
    # per administration ("/dose", "/infusion", "/fraction"): the amount of one
    # administration, which is what a dose is; the unit stays as it is
    (
        "Dose Level 1: FT538 at 1 x10^8 cells/dose",
        [("100000000", None, "cells", None, "1 x10^8 cells/dose")],
    ),  # NCT04714372
    (
        "Monotherapy: IP FT516 at 9 x 10^8 cells/dose on Day 1, 8, and 15",  # NCT04630769
        [("900000000", None, "cells", None, "9 x 10^8 cells/dose")],
    ),
    (
        "MSCs (2*10^6 cells/kg/dose) or matching placebo",  # NCT02709343
        [("2000000", None, "cells/kg", KG, "2*10^6 cells/kg/dose")],
    ),
    (
        "intravenous infusions of HB-adMSCs at 200 million cells/dose",  # NCT04348435
        [("200000000", None, "cells", None, "200 million cells/dose")],
    ),
    (
        "UC-MSC will be administered at 100x10^6 cells/infusion administered intravenously",  # NCT04355728
        [("100000000", None, "cells", None, "100x10^6 cells/infusion")],
    ),
    (
        "375 mg/m^2/dose (maximum 500 mg/dose) in 4 doses",  # NCT00307125
        [("375", None, "mg/m2", M2, "375 mg/m^2/dose"), ("500", None, "mg", None, "maximum 500 mg/dose")],
    ),
    ("rabbit ATG at 3.5 mg/kg/dose IV from day -6", [("3.5", None, "mg/kg", KG, "3.5 mg/kg/dose")]),  # NCT02407470
    (
        "dose level 1 (75.25 Gy, 2.15 Gy/fraction)",  # NCT00023673
        [("75.25", None, "Gy", None, "75.25 Gy"), ("2.15", None, "Gy", None, "2.15 Gy/fraction")],
    ),
    # "per dose", "per infusion": the same in words
    (
        "HS-410 is given as 1*10^6 cells per dose for 12 weekly",
        [("1000000", None, "cells", None, "1*10^6 cells per dose")],
    ),  # NCT02010203
    (
        "Dose levels will be 2.5 x 10e6 MSC/kg per dose, 5 x 10e6 MSC/kg",  # NCT02410239
        [
            ("2500000", None, "cells/kg", KG, "2.5 x 10e6 MSC/kg per dose"),
            ("5000000", None, "cells/kg", KG, "5 x 10e6 MSC/kg"),
        ],
    ),
    # a dose rate is not a dose
    ("200 cGy at 25 cGy/minute delivered", [("200", None, "cGy", None, "200 cGy")]),  # NCT00498316
]

# Lists whose plain numbers do not take the last one's scale: only the scaled dose is read
ONLY_THE_SCALED = [
    "Day 1 and 2 million cells/kg",  # a day, not a dose
    "n = 4 or 2 million cells/kg",  # not opened as doses are
    "doses of 300 or 150 million cells",  # not increasing
    "either 1500 or 3000 million cells",  # a plain number over 1,000 is not a mantissa
    "of 1, 2 x 10^6 cells/kg",  # no "or" or "and" before the scaled one
]

# Numbers next to units that are not doses, and doses that cannot be read safely
NOT_DOSES = [
    "CD4 count > 200 cells/mm3",  # a lab value: a concentration
    "eGFR at least 30 mL/min and glucose under 126 mg/dL",  # rates and concentrations
    "1 x 10^6 cells/mL in 5 mL",  # a concentration, and a volume (not per kg or m²)
    "30 mL of blood will be collected",  # NCT03969680: a volume, not a dose
    "day 0: 1.10^6 MSC/kg day 3: 0.5. 10^6 MSC/kg",  # NCT04625738: "0.5. 10^6" is not 10^6
    "200 mln. cells",  # an abbreviation with a full stop: not read
    "norepinephrine 0.1 µg/kg/min",  # an infusion rate
    "2 MSC infusions",  # two infusions, not two cells
    "Subjects <50kg will receive",  # a body weight
    "aged 18-65 years, 2 patients received mesenchymal stem cells",
    "10 000 U/m² BSA",  # "10 000": spaces between thousands are ambiguous ("Day 1 500 mg")
    "MSC 2×1,000,000 MSC/kg",  # a product: which factor is the dose?
    "2 x 105 mg",  # a lost superscript is read for cell counts only
    "100 million (two infusions)",  # no unit
    "NCT01234567 mg",  # inside an identifier
    "injected by lateral approach with an 18-20 G needle.",  # NCT01985633: needle gauges
    "from the antecubital vein with an 18g needle , in order",  # NCT01985633
    "Using the international standard 14G (diameter 1.54mm) needle",  # NCT02853942
    "with a sharp 27G needle. Adipose tissue",  # NCT03643614
    "(CPL, 1 cc, 26G x 1.5 syringe, Shinchang medical co.)",  # NCT02841163
    "using 29G x 40mm or 29G x 60mm TEA",  # NCT03236753
    "A 20G spinal needle will be carefully inserted",  # NCT06615505
    "Adipose tissue was taken through 5 grams of subcutaneous fat biopsy",  # NCT04876326: tissue taken
    "A 1 cm (~0.5 g) of epicardial pat biopsy",  # NCT03478410
    "each meal that contains more than 20 grams of carbohydrate",  # NCT00763412
    "at a dose rate of 10-19 cGy/minute",  # NCT01033552: a dose rate
]


def _read(text: str) -> list[tuple[str, str | None, str, DoseBasis | None, str]]:
    return [
        (format(d.value, "f"), None if d.max_value is None else format(d.max_value, "f"), d.unit, d.basis, d.text)
        for d in find_doses(text)
    ]


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[t[:40] for t, _ in FOUND])
def test_doses_are_read(text: str, expected: list[tuple[str, str | None, str, DoseBasis | None, str]]) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize("text", ONLY_THE_SCALED)
def test_plain_numbers_that_keep_no_scale(text: str) -> None:
    # by hand: the last number of each, with its scale, is the one dose
    expected = {
        "Day 1 and 2 million cells/kg": ("2000000", "2 million cells/kg"),
        "n = 4 or 2 million cells/kg": ("2000000", "2 million cells/kg"),
        "doses of 300 or 150 million cells": ("150000000", "150 million cells"),
        "either 1500 or 3000 million cells": ("3000000000", "3000 million cells"),
        "of 1, 2 x 10^6 cells/kg": ("2000000", "2 x 10^6 cells/kg"),
    }[text]
    assert [(value, words) for value, _, _, _, words in _read(text)] == [expected]


@pytest.mark.parametrize("text", NOT_DOSES)
def test_not_doses(text: str) -> None:
    assert _read(text) == []


MOST, LEAST, ABOUT = DoseQualifier.AT_MOST, DoseQualifier.AT_LEAST, DoseQualifier.APPROXIMATELY
# A limit or an estimate stated before a dose: (text, [(value, qualifier, words)]), quoted
# from corpus records; the words include the qualifier.
QUALIFIED = [
    ("A single IV infusion of up to 2 million cells per kg based on the MSC numbers",  # NCT00813969
     [("2000000", MOST, "up to 2 million cells per kg")]),
    ("375 mg/m^2/dose (maximum 500 mg/dose) in 4 doses",  # NCT00307125
     [("375", None, "375 mg/m^2/dose"), ("500", MOST, "maximum 500 mg/dose")]),
    ("titrated upward to a maximum dose of 1600 µg. Titration was stopped",  # NCT00538850
     [("1600", MOST, "maximum dose of 1600 µg")]),
    ("1.5 million mesenchymal cells per kg of body weight, not to exceed 150 million cells.",  # NCT01771679
     [("1500000", None, "1.5 million mesenchymal cells per kg of body weight"),
      ("150000000", MOST, "not to exceed 150 million cells")]),
    ("at a dose of 2mg/kg/day not exceeding 150 mg/day",  # NCT02135380
     [("2", None, "2mg/kg/day"), ("150", MOST, "not exceeding 150 mg/day")]),
    ("Prednisolone ≤10mg/day or ≤20 mg every alternate day",  # NCT02135380
     [("10", MOST, "≤10mg/day"), ("20", MOST, "≤20 mg")]),
    ("Pirfenidone at dose upto 1200 to 1800 mg/day",  # NCT02135380: a range with its limit
     [("1200", MOST, "upto 1200 to 1800 mg/day")]),
    ("continued throughout the study at a minimum dose of 5 mg/day.",  # NCT01079143
     [("5", LEAST, "minimum dose of 5 mg/day")]),
    ("An intended total dose of ≥0.1-1e10 total cells will be administered",  # NCT01892293
     [("1000000000", LEAST, "≥0.1-1e10 total cells")]),
    ("60 million cells intrathecally (approximately 1 million cells per Kg of body weight)",  # NCT00781872
     [("60000000", None, "60 million cells"),
      ("1000000", ABOUT, "approximately 1 million cells per Kg of body weight")]),
    ("infusions of COVI-MSC (one vial, ~18.5 million cells) on Day 0",  # NCT04909892
     [("18500000", ABOUT, "~18.5 million cells")]),
    ("The ASC injection dose is about 1x10^7 cells of ASC per 1cm^2",  # NCT04612465
     [("10000000", ABOUT, "about 1x10^7 cells")]),
    # not qualifiers: "min." is minutes (NCT05061030), "-min" ends a drug's name (NCT06058572)
    ("intravenously over a period of 20-40 min. 100 million cells to subjects < 50 kg",
     [("100000000", None, "100 million cells")]),
    ("Tab Rifaximin 200 mg will be given orally", [("200", None, "200 mg")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), QUALIFIED, ids=[t[:40] for t, _ in QUALIFIED])
def test_limits_and_estimates_are_qualified(text: str, expected: list[tuple[str, DoseQualifier | None, str]]) -> None:
    assert [(format(d.value, "f"), d.qualifier, d.text) for d in find_doses(text)] == expected


def test_values_are_exact_decimals() -> None:
    (d,) = find_doses("0.1 mg/kg")
    assert d.value == Decimal("0.1") and isinstance(d.value, Decimal)
    (d,) = find_doses("3.3 x 10^6 cells/kg")
    assert format(d.value, "f") == "3300000"  # not 3299999.9999999995


@pytest.fixture(scope="module")
def example_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("doses") / "store"
    result = CliRunner().invoke(
        app, ["ingest", "--store", str(store), str(ROOT / "examples" / "pages"), str(ROOT / "examples" / "records")]
    )
    assert result.exit_code == 0, result.output
    return store


# What `show` gives for the seeds' doses, read by hand from examples/pages: each states
# the dose in an arm description, and seed 001 also in its intervention's description.
SEED_DOSES = {
    "NCT03392311": ("arms", "AD-MSCs plus Calcipotriol ointment group", 2000000, None, "cells/kg", "BODY_WEIGHT"),
    "NCT03745417": ("interventions", "Umbilical cord mesenchymal stem cells", 2000000, None, "cells/kg", "BODY_WEIGHT"),
    "NCT01420432": ("arms", "Human umbilical cord-derived MSCs and DMARDs", 1000000, None, "cells/kg", "BODY_WEIGHT"),
    "NCT03219801": ("arms", "mesenchymal stem cells", 100000000, 300000000, "cells", None),
}


@pytest.mark.parametrize("nct", sorted(SEED_DOSES))
def test_show_lists_the_seeds_doses(example_store: Path, nct: str) -> None:
    result = CliRunner().invoke(app, ["show", nct, "--store", str(example_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    where, name, value, max_value, unit, basis = SEED_DOSES[nct]
    key = "label" if where == "arms" else "name"
    (item,) = [x for x in rec[where] if x[key] == name]
    assert [(d["value"], d["max_value"], d["unit"], d["basis"]) for d in item["doses"]] == [
        (value, max_value, unit, basis)
    ]


def test_show_lists_no_dose_where_none_is_stated(example_store: Path) -> None:
    """A bundled record whose arm and intervention state no dose ("Adults with knee
    osteoarthritis who receive cord blood cells")."""
    result = CliRunner().invoke(app, ["show", "NCT09900001", "--store", str(example_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    items = rec["arms"] + rec["interventions"]
    assert items and all(x["doses"] == [] for x in items)


def test_show_text_prints_doses(example_store: Path) -> None:
    result = CliRunner().invoke(app, ["show", "NCT03219801", "--store", str(example_store)])
    assert result.exit_code == 0, result.output
    assert (
        'dose: 100000000-300000000 cells ("100-300 million allogeneic human umbilical cord derived '
        'mesenchymal stem cells")' in result.output
    )


def test_a_limit_is_kept_in_the_graph_and_shown(tmp_path: Path) -> None:
    """NCT00307125's rituximab text (its other facts left out): the cap "(maximum 500
    mg/dose)" is a dose AT_MOST 500 mg, apart from the dose of 375 mg/m²."""
    record = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT09900977", "briefTitle": "A capped dose"},
            "armsInterventionsModule": {
                "interventions": [
                    {
                        "type": "DRUG",
                        "name": "Rituximab",
                        "description": "375 mg/m^2/dose (maximum 500 mg/dose) in 4 doses",
                    }
                ]
            },
        }
    }
    (tmp_path / "capped.json").write_text(json.dumps(record))
    store = str(tmp_path / "store")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "--no-link", "--store", store, str(tmp_path / "capped.json")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["show", "NCT09900977", "--store", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    (iv,) = json.loads(result.output)["interventions"]
    assert iv["doses"] == [
        {"value": 375, "max_value": None, "unit": "mg/m2", "basis": "BODY_SURFACE_AREA", "qualifier": None,
         "substance": None, "text": "375 mg/m^2/dose"},
        {"value": 500, "max_value": None, "unit": "mg", "basis": None, "qualifier": "AT_MOST",
         "substance": None, "text": "maximum 500 mg/dose"},
    ]  # fmt: skip
    result = runner.invoke(app, ["show", "NCT09900977", "--store", store])
    assert result.exit_code == 0, result.output
    assert 'dose: at most 500 mg ("maximum 500 mg/dose")' in result.output
    assert 'dose: 375 mg/m2 ("375 mg/m^2/dose")' in result.output
    # the limit and a plain dose of the same amount are two doses, with two IRIs
    trial = Trial(
        nct_id="NCT09900977",
        source=Source(SourceFormat.CTGOV_V2_JSON, "capped.json", "sha256:0"),
        interventions=[Intervention("Rituximab", InterventionType.DRUG, "500 mg once (maximum 500 mg)")],
    )
    quads = trial_quads(trial, MappingOptions())
    qualified = {
        (str(q.subject.value).rsplit("/", 1)[1], str(q.object.value).rsplit("#", 1)[1])
        for q in quads
        if q.predicate == T.doseQualifier
    }
    doses = {str(q.object.value).rsplit("/", 1)[1] for q in quads if q.predicate == T.dose}
    assert doses == {"500-mg", "at-most-500-mg"}
    assert qualified == {("at-most-500-mg", "DoseQualifier_AT_MOST")}


def test_corpus_doses_are_read_from_their_words(corpus_dir: Path) -> None:
    """Over every intervention and arm text of the shared corpus: each dose's words are in
    the text as written, its value is above zero, a range rises, and its unit is one the
    shapes allow. Nothing is made up from around the words."""
    units = {f"{u}{b}{d}" for u in ("cells", "mg", "µg", "ng", "g", "mL", "IU", "U", "Gy", "cGy")
             for b in ("", "/kg", "/m2") for d in ("", "/day")}  # fmt: skip
    seen = 0
    for trial in read_trials([corpus_dir]):
        assert not isinstance(trial, Exception), trial
        texts = [x for iv in trial.interventions for x in (iv.name, *iv.other_names, iv.description) if x]
        texts += [x for a in trial.arms for x in (a.label, a.description) if x]
        for text in texts:
            flat = " ".join(text.split())
            for d in find_doses(text):
                seen += 1
                words = d.text.split(" (")[0] if d.text.endswith(")") and " (" in d.text else d.text
                assert words in flat, (trial.nct_id, d.text)
                assert d.value > 0, (trial.nct_id, d.text)
                assert d.max_value is None or d.max_value > d.value, (trial.nct_id, d.text)
                assert d.unit in units, (trial.nct_id, d.unit)
                assert (d.basis is DoseBasis.BODY_WEIGHT) == ("/kg" in d.unit), (trial.nct_id, d.text)
    assert seen > 1000  # the corpus states about 2,000 doses in these texts


# In a cell therapy's own text, or an arm that gives one, a scaled count per kg with no
# unit counts cells (NCT03580291: "The cells of 2 x 10^6/kg body weight are suspended in";
# NCT03939741: "high dose of 2x106/kg of autologous MSC"); elsewhere it is no dose.
CELL_CONTEXT = [
    ("The cells of 2 x 10^6/kg body weight are suspended in", "2000000", "2 x 10^6/kg body weight"),
    ("I/V injection of high dose of 2x106/kg of autologous MSC.", "2000000", "2x106/kg"),
]


@pytest.mark.parametrize(("text", "value", "words"), CELL_CONTEXT)
def test_scaled_counts_per_kg_are_cells_in_a_cell_therapy(text: str, value: str, words: str) -> None:
    assert _read(text) == []
    got = [(format(d.value, "f"), d.unit, d.basis, d.text) for d in find_doses(text, counts_are_cells=True)]
    assert got == [(value, "cells/kg", KG, words)]


def test_cell_context_needs_a_scale_and_a_basis() -> None:
    for text in ("30/kg", "2 x 10^6 in saline", "weight 50/kg", "1.5 x 10^2/kg"):
        assert find_doses(text, counts_are_cells=True) == [], text


def test_mapping_reads_counts_as_cells_only_for_cell_therapies() -> None:
    """The same words on a cell therapy (and its arm) and on a drug (and its arm)."""
    words = "2 x 10^6/kg on day 1"
    trial = Trial(
        nct_id="NCT09900777",
        source=Source(SourceFormat.CTGOV_V2_JSON, "x.json", "sha256:0"),
        interventions=[
            Intervention("MSC", InterventionType.BIOLOGICAL, words, cell_therapy=CellTherapy()),
            Intervention("Drug X", InterventionType.DRUG, words),
        ],
        arms=[
            Arm("Cells", None, words, ["Biological: MSC"]),
            Arm("Drug", None, words, ["Drug: Drug X"]),
        ],
    )
    owners = {
        q.subject.value.removeprefix(T.trial_iri("NCT09900777").value)
        for q in trial_quads(trial, MappingOptions())
        if q.predicate == T.dose
    }
    assert owners == {"/intervention/msc", "/arm/cells"}


def test_stats_count_doses(example_store: Path) -> None:
    """The bundled examples state 8 doses (read by hand: one in each of the arms of
    NCT01420432, NCT03219801, NCT03392311 and NCT09900101; in the intervention and the
    arm of NCT03745417 and of NCT09900011), all per kg but NCT03219801's "100-300
    million ... cells"; each of those six trials has one cell therapy given a cell dose."""
    result = CliRunner().invoke(app, ["stats", "--store", str(example_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert (stats["doses stated"], stats["doses per kg of body weight"], stats["cell therapies with a cell dose"]) == (
        8,
        7,
        6,
    )


def test_an_arm_named_by_a_cell_therapy_gives_it_the_arm_cell_counts() -> None:
    """The registry may state the arm-intervention link only from the intervention's side
    (its arm labels): the arm then gives the cell therapy, and the arm's cell count is a
    cell dose of it, while the arm's drug dose is not."""
    trial = Trial(
        nct_id="NCT09900778",
        source=Source(SourceFormat.CTGOV_V2_JSON, "x.json", "sha256:0"),
        interventions=[
            Intervention("MSC", InterventionType.BIOLOGICAL, arm_labels=["Cells"], cell_therapy=CellTherapy()),
        ],
        arms=[Arm("Cells", None, "2 million cells/kg with methotrexate 15 mg weekly", [])],
    )
    quads = trial_quads(trial, MappingOptions())
    base = T.trial_iri("NCT09900778").value
    gives = {(q.subject.value, q.object.value) for q in quads if q.predicate == T.armIntervention}
    assert gives == {(f"{base}/arm/cells", f"{base}/intervention/msc")}
    cell_doses = {(q.subject.value, q.object.value) for q in quads if q.predicate == T.cellDose}
    # the arm's doses are "2 million cells/kg" and "15 mg"
    assert cell_doses == {(f"{base}/intervention/msc", f"{base}/arm/cells/dose/2000000-cells-per-kg")}
