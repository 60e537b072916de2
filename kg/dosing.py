"""Doses stated in intervention and arm text: "2 million cells/kg", "1.0E+6 MSC/kg",
"0.2-1 x 10^7 CART22 cells/kg", "100-300 million allogeneic ... stem cells",
"10 mg/kg/day", "500 mg".

A dose is read only where the text states a number and a unit together; nothing is
inferred. What is read:

* numbers: ``2``, ``2.5`` (also ``2·5``), ``1,000,000``; scaled as ``1 x 10^6`` (also
  ``×``, ``*``, ``10**6``, ``10⁶``, ``10(6)``, ``10E6`` and ``106``, the last being how a
  superscript exponent reads once the registry stripped it: no dose is "1 x 106 cells"),
  ``1.0E+6``, ``2 million`` (``thousand``, ``million``, ``billion``); a backslash before
  ``^`` or ``*`` (the registry's Markdown escape) is ignored;
* ranges ``100-300 million``, ``0.2-1 x 10^7``, ``1 to 2 mg``: both ends take the
  scale written once; a tolerance ``1 ± 0.5 x 10^6`` gives the nominal value;
* lists ``10^4, 10^5 or 10^6 cells/kg``, ``1E6#3E6#1E7 cells/kg``: one dose each; plain
  numbers before a scaled one take its scale ("of 150 or 300 million cells", "either
  1.0 or 2.0 million cells/kg") only when they increase, are under 1,000, the list ends
  in "or" or "and", and it follows "of", "either", "receive", "the", "at", "with", a
  bracket or a colon ("Day 1 and 2 million cells" gives 2 million only);
* ``between 2 and 10 million``: a range, like ``2-10 million``;
* units: cells (a word ending in "cell(s)" or "MSC(s)", after at most eight words that
  describe them: "allogeneic human umbilical cord derived mesenchymal stem cells",
  "CAR+ T cells", "UC-MSCs"), ``mg``, ``µg`` (``mcg``, ``ug``), ``ng``, ``g``, ``mL`` (per
  kg or m² only: "30 mL of blood" or "5 mL DMSO" is a volume, not a dose),
  ``IU``, ``U`` (``units``), ``Gy`` and ``cGy``, each optionally per body weight (``/kg``,
  ``per kg``, ``per kilogram``, ``/kg body weight``, ``/kgBW``) or body surface area
  (``/m2``, ``/m²``) and per day (``/day``), then per administration (``/dose``,
  ``/infusion``, ``/injection``, ``/fraction``, or ``per dose`` and so on: the unit stays
  as it is, a dose being
  the amount of one administration); the cells' bracketed abbreviation may
  stand before the basis ("stem cells (hMSC)/kg"), and "units of" before the cells
  ("10x10^6 unit of umbilical cord mesenchymal stem cells" counts cells);
* for the text of a cell therapy (``counts_are_cells``), a count of at least 1,000
  written with a scale and directly per body weight or surface area, with no unit
  between: "2 x 10^6/kg" is 2 million cells/kg there.

A word right before a dose that makes it a limit or an estimate is kept as its
qualifier, and is part of the dose's words: "up to", "maximum (dose) (of)", "not to
exceed", "no more than", "at most", "less than", "≤", "<" (AT_MOST: "(maximum 500
mg/dose)"); "minimum (dose) (of)", "at least", "no less than", "more than", "≥", ">"
(AT_LEAST); "approximately", "approx.", "about", "around", "roughly", "circa", "~", "≈"
(APPROXIMATELY). It applies to each number of a list or range it stands before. "min."
is not read as "minimum" (it is minutes in "over 20-40 min. 100 million cells").

Not read as doses: concentrations and rates (a unit followed by another denominator:
``mg/dL``, ``mL/min``, ``cells/mL``, ``µg/kg/min``), cell counts under 1,000 written
without a scale ("2 MSC infusions" is two infusions, not two cells), needle gauges ("18 G
needle", "29G x 40mm"), amounts of material taken ("5 grams of subcutaneous fat", "20
grams of carbohydrate"), and numbers that
cannot be read safely: thousands grouped by plain spaces ("10 000 U": "Day 1 500 mg"
looks the same), the second factor of a product ("2×1,000,000 MSC/kg"), and lists of
unscaled numbers that do not share a scale ("Day 1, 10 mg" gives 10 mg only).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from kg.enums import DoseBasis, DoseQualifier

__all__ = ["Dose", "find_doses"]


@dataclass(frozen=True, slots=True)
class Dose:
    """One stated dose: ``value`` (the lower end of a range), ``max_value`` (its upper end,
    None for a single value), ``unit`` as normalised ("cells", "mg", "µg", "ng", "g",
    "mL", "IU", "U", with "/kg", "/m2" and "/day" as stated), ``basis`` (per body weight
    or body surface area, None for an absolute dose), ``text``, the words it was read
    from, and ``qualifier`` when a word before it makes it a limit or an estimate ("up to",
    "minimum", "approximately")."""

    value: Decimal
    max_value: Decimal | None
    unit: str
    basis: DoseBasis | None
    text: str
    qualifier: DoseQualifier | None = None
    #: Where the words of the statement begin in the text read (qualifier included; for
    #: each dose of a list or range, where the list begins).
    start: int = field(default=0, compare=False)


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_WORD_SCALE = {"thousand": 3, "million": 6, "millions": 6, "mln": 6, "billion": 9, "billions": 9, "bn": 9}

# A number with its optional scale, as a template: "@" is replaced by the group-name
# prefix of the quantity ("a" for a single value or a range's lower end, "b" for its upper
# end). The mantissa is not part of a longer number or word.
_MANTISSA = r"(?:(?!0\d)(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d{1,3}(?:[\u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.·]\d+)?)|[.·]\d+)"
_TIMES = r"\s*(?:[x×X]|\\?\*)\s*"
# a power written with a caret or "**": "^6", "\\^6", "**6", "^(6)"
_CARET_POWER = r"\s*(?:\\?\^|\\?\*\\?\*)\s*\(?(?P<@{e}>[+-]?\d{{1,2}})\)?(?!\d)"
_SCALE = (
    r"(?:"
    + _TIMES
    + r"10(?:"
    + _CARET_POWER.format(e="e1")  # x 10^6, x 10**6
    + r"|\s*[eE]\s*\+?(?P<@e2>-?\d{1,2})(?!\d)"  # x 10E6: 10 to the 6th
    + r"|(?P<@e3>[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})"  # x 10⁶
    + r"|\s*\((?P<@e4>[+-]?\d{1,2})\)"  # x 10(6)
    + r"|(?P<@e5>[1-9]\d?)(?![\d.,]\d)"  # x 106: a superscript lost (cells only)
    + r")"
    + r"|[eE](?P<@e6>[+-]?\d{1,2})(?![\w])"  # 1.0E+6
    + r"|\s*(?P<@w>thousand|millions?|mln|billions?|bn)\b"
    + r")"
)
_BARE_POWER = r"10" + _CARET_POWER.format(e="e0")  # 10^6 with no mantissa


def _quantity(p: str) -> str:
    return rf"(?:{_BARE_POWER}|(?P<@m>{_MANTISSA})(?:\s*±\s*{_MANTISSA})?(?P<@s>{_SCALE})?)".replace("@", p)


_RANGE_TO = r"\s*(?:-|–|—|~|to)\s*"
_ONE = re.compile(
    # not inside a longer number or word, and not the second factor of a product ("2×1,000,000")
    # or a group of thousands written with plain spaces ("10 000": "Day 1 500 mg" is ambiguous)
    r"(?<![\w.,·^/])(?<!\d[x×X*])(?<!\d[x×X*]\s)(?<!\d\s[x×X*])(?<!\d\s[x×X*]\s)(?<!\d\s)"
    rf"(?:{_quantity('a')})(?:{_RANGE_TO}(?:{_quantity('b')}))?",
    re.IGNORECASE,
)
_LIST_SEP = re.compile(r"\s*(?:,?\s*\b(?:or|and)\b|,|#|;)\s*", re.IGNORECASE)
# what may come right before a list of plain numbers that share the last one's scale
# ("of 150 or 300 million", "either 1.0 or 2.0 million", "doses (25 and 75 million"):
# not "Day 1 and 2 million", "between 2 and 10 million" (a range) or "n = 4 or 2 million"
_BETWEEN = re.compile(r"\bbetween\s*$", re.IGNORECASE)
_BETWEEN_AND = re.compile(r"\s*and\s*", re.IGNORECASE)
_SHARED_SCALE_OPENER = re.compile(r"(?:^|\(|:|\b(?:of|either|receive[sd]?|receiving|the|at|with))\s*$", re.IGNORECASE)

_PAREN = re.compile(r"\s*\([^()]{0,25}\)")
_TOKEN = re.compile(r"\s*([A-Za-z][A-Za-z0-9+'’-]*|\([^()]{0,60}\))")
_CELL_WORD = re.compile(r"(?i)(?:.*[^a-z])?(?:cells?|[a-z]*mscs?)")
# words that end a description of cells: "2 patients received MSCs" is no dose of 2 cells
_NOT_DESCRIPTIVE = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "per", "with", "and", "or", "each", "every",
    "were", "was", "is", "are", "be", "been", "will", "would", "received", "receive", "receiving", "given",
    "give", "giving", "infused", "injected", "patient", "patients", "subject", "subjects", "participant",
    "participants", "dose", "doses", "day", "days", "week", "weeks", "month", "months", "times", "time",
    "infusion", "infusions", "injection", "injections", "kg",
})  # fmt: skip
_UNIT = re.compile(
    r"\s*(?P<u>mg|mcg|µg|μg|ug|ng|g|milligrams?|micrograms?|grams?|ml|iu|units?|u|c?gy)(?![\w/])"
    r"|\s*(?P<u2>mg|mcg|µg|μg|ug|ng|g|ml|iu|u|c?gy)(?=/)",
    re.IGNORECASE,
)
_UNIT_NAMES = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg",
    "mcg": "µg", "µg": "µg", "μg": "µg", "ug": "µg", "microgram": "µg", "micrograms": "µg",
    "ng": "ng", "g": "g", "gram": "g", "grams": "g",
    "ml": "mL", "iu": "IU", "u": "U", "unit": "U", "units": "U", "gy": "Gy", "cgy": "cGy",
}  # fmt: skip
_BASIS = re.compile(
    r"\s*(?:/|\bper\b)\s*(?:(?P<kg>kg|kilograms?)(?:\s*(?:of\s+)?(?:body\s*weight|bw))?\b"
    r"|(?P<m2>m2|m²|m\^2|square\s+met(?:er|re)s?)(?![\w^]))",
    re.IGNORECASE,
)
_PER_DAY = re.compile(r"\s*(?:/|\bper\b)\s*(?:day|d)\b", re.IGNORECASE)
# "/dose", "per infusion", "/fraction": each administration's amount, which is what a dose
# is, so the unit stays as it is ("375 mg/m^2/dose" is 375 mg/m2, "100x10^6
# cells/infusion" 100 million cells); unlike "/mL" or "/min" it is no concentration or rate
_PER_ADMINISTRATION = re.compile(
    r"\s*(?:/|\bper\b)\s*(?:doses?|infusions?|injections?|administrations?|fractions?)\b", re.IGNORECASE
)
_OTHER_DENOMINATOR = re.compile(r"\s*/\s*[A-Za-zµμ]")
_DIGIT = re.compile(r"\d")
_NAMED_AGAIN = re.compile(r"\s*\([^()]{0,25}\)\s*cells\b", re.IGNORECASE)
_MIN_UNSCALED_CELLS = 1000
_UNITS_OF = re.compile(r"\s*units?\s+of\b", re.IGNORECASE)
# after "18 G", "27G": a needle's gauge, not grams ("18-20 G needle", "14G (1.54 mm)
# needle", "29G x 40mm")
_GAUGE = re.compile(
    r"(?:\s*\([^()]{0,40}\))?\s*(?:(?:[A-Za-z-]+\s+){0,2}(?:needles?|cannulae?s?|catheters?|syringes?|gauge)\b"
    r'|[x×]\s*\d+(?:\.\d+)?\s*(?:mm|cm|inch(?:es)?\b|in\b|"|syringes?|needles?))',
    re.IGNORECASE,
)
# after "5 grams", "0.5 g)": an amount of material taken, not a dose ("5 grams of
# subcutaneous fat", "20 grams of carbohydrate")
_MATERIAL = re.compile(
    r"\)?\s*of\s+(?:[A-Za-z-]+\s+){0,3}?"
    r"(?:tissues?|fat|biops(?:y|ies)|lipoaspirates?|aspirates?|marrow|carbohydrates?)\b",
    re.IGNORECASE,
)


def _exponent(m: re.Match[str], p: str) -> int | None:
    """The power of ten a matched quantity's scale gives, or None when it has none."""
    for k in ("e0", "e1", "e2", "e3", "e4", "e5", "e6"):
        v = m.group(p + k)
        if v is not None:
            return int(v.translate(_SUPERSCRIPT))
    w = m.group(p + "w")
    return _WORD_SCALE[w.lower()] if w is not None else None


def _mantissa(m: re.Match[str], p: str) -> Decimal:
    raw = m.group(p + "m")
    if raw is None:  # a bare power of ten
        return Decimal(1)
    return Decimal(raw.replace(",", "").replace("\u00a0", "").replace("\u202f", "").replace("·", "."))


def _scaled(mantissa: Decimal, exponent: int | None) -> Decimal:
    return mantissa.scaleb(exponent) if exponent else mantissa


def _plain(d: Decimal) -> Decimal:
    """Without exponent or trailing zeros (2E+6 -> 2000000, 0.50 -> 0.5)."""
    d = d.normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


@dataclass(slots=True)
class _Number:
    start: int
    end: int
    low: Decimal
    high: Decimal | None
    scaled: bool
    glued: bool  # scaled as "x 106" (a lost superscript): read only for cells
    exponent: int | None = None  # the power of ten of its scale
    borrowed: bool = False  # the scale is the next number's ("150 or 300 million")


def _number_at(text: str, pos: int) -> _Number | None:
    m = _ONE.match(text, pos)
    if m is None:
        return None
    if m.group("am") is None and any(c.isdigit() for c in text[max(0, pos - 3) : pos]):
        # "0.5. 10^6 MSC/kg": a power of ten right after a number multiplies it, in a
        # notation not read here; taken alone it would be a wrong dose
        return None
    try:
        ea, eb = _exponent(m, "a"), _exponent(m, "b")
        has_b = m.group("bm") is not None or m.group("be0") is not None
        if has_b and ea is None:
            ea = eb  # "100-300 million", "0.2-1 x 10^7": one scale for both ends
        low = _scaled(_mantissa(m, "a"), ea)
        high = _scaled(_mantissa(m, "b"), eb) if has_b else None
    except (InvalidOperation, ValueError, KeyError):
        return None
    if high is not None and high <= low:
        # "1-2" is a range; "18-2" or "2020-01" is not
        return None
    glued = m.group("ae5") is not None or m.group("be5") is not None
    return _Number(m.start(), m.end(), low, high, ea is not None, glued, ea)


def _between(text: str, first: _Number) -> _Number | None:
    """The range "between 2 and 10 million" that starts with ``first``, or None."""
    if first.high is not None or not _BETWEEN.search(text[max(0, first.start - 12) : first.start]):
        return None
    sep = _BETWEEN_AND.match(text, first.end)
    upper = _number_at(text, sep.end()) if sep else None
    if upper is None or upper.high is not None or (first.scaled and upper.exponent != first.exponent):
        return None
    low = first.low if first.scaled or upper.exponent is None else first.low.scaleb(upper.exponent)
    if low >= upper.low:
        return None
    return _Number(first.start, upper.end, low, upper.low, upper.scaled, upper.glued, upper.exponent)


def _numbers(text: str, pos: int) -> tuple[list[_Number], int] | None:
    """A number, or a list of numbers sharing a unit ("10^4, 10^5 or 10^6"), at ``pos``."""
    first = _number_at(text, pos)
    if first is None:
        return None
    if (span := _between(text, first)) is not None:
        return [span], span.end
    found = [first]
    end = first.end
    while True:
        sep = _LIST_SEP.match(text, end)
        if sep is None or sep.end() == end:
            break
        nxt = _number_at(text, sep.end())
        if nxt is None:
            break
        found.append(nxt)
        end = nxt.end
    if len(found) > 1 and not all(n.scaled for n in found) and not _share_scale(text, found):
        # otherwise only lists of scaled numbers share a unit ("10^4, 10^5 or 10^6
        # cells/kg"): in "Day 1, 10 mg" the list is not one of doses
        found = found[-1:]
    return found, end


def _share_scale(text: str, found: list[_Number]) -> bool:
    """Whether plain numbers before a scaled one take its scale ("of 150 or 300 million",
    "of 0.75 or 1.5×10^6"), and if so give it them: only single values under 1,000 in
    increasing order, each but the last unscaled, the list ending in "or" or "and" and
    opened as doses are (:data:`_SHARED_SCALE_OPENER`)."""
    *plain, last = found
    if last.exponent is None or last.high is not None or any(x.scaled or x.high is not None for x in plain):
        return False
    mantissas = [x.low for x in plain] + [last.low.scaleb(-last.exponent)]
    if any(a >= b for a, b in itertools.pairwise(mantissas)) or mantissas[-1] >= 1000:
        return False
    if not re.search(r"\b(?:or|and)\s*$", text[plain[-1].end : last.start], re.IGNORECASE):
        return False
    if not _SHARED_SCALE_OPENER.search(text[max(0, found[0].start - 30) : found[0].start]):
        return False
    for x in plain:
        x.low, x.scaled, x.glued, x.exponent = x.low.scaleb(last.exponent), True, last.glued, last.exponent
        x.borrowed = True
    return True


# A limit or an estimate stated right before a dose (the 40 characters before its first
# number): "up to", "(maximum", "a minimum dose of", "not to exceed", "≥", "~".
_QUALIFIER = re.compile(
    r"(?:(?P<most>\b(?:maximum|maximal|max\.?|up\s+to|upto|not\s+to\s+exceed|not\s+exceeding|no\s+more\s+than"
    r"|not\s+more\s+than|at\s+most|less\s+than|fewer\s+than)|≤|<=|=<|<)"
    r"|(?P<least>\b(?:minimum|minimal|at\s+least|no\s+less\s+than|not\s+less\s+than|more\s+than|greater\s+than)"
    r"|≥|>=|=>|>)"
    r"|(?P<approx>\b(?:approximately|approx\.?|about|around|roughly|circa)|~|≈|∼))"
    r"(?:\s+(?:total\s+|daily\s+|single\s+|cumulative\s+)?(?:dose|dosage)s?)?(?:\s+of)?\s*:?\s*$",
    re.IGNORECASE,
)
_QUALIFIER_REACH = 40


def _qualifier(text: str, start: int) -> tuple[DoseQualifier, int] | None:
    """The qualifier stated right before the number at ``start``, and where its words begin."""
    q = _QUALIFIER.search(text, max(0, start - _QUALIFIER_REACH), start)
    if q is None:
        return None
    if q.group("most"):
        return DoseQualifier.AT_MOST, q.start()
    if q.group("least"):
        return DoseQualifier.AT_LEAST, q.start()
    return DoseQualifier.APPROXIMATELY, q.start()


def _cells_end(text: str, pos: int) -> int | None:
    """The end of "[describing words] cells" at ``pos``, or None."""
    end = pos
    for _ in range(9):
        tok = _TOKEN.match(text, end)
        if tok is None:
            return None
        word = tok.group(1)
        end = tok.end()
        if word.startswith("("):
            # "100 million (autologous human bone marrow cells)": the cells named in brackets
            inner = _TOKEN.findall(word[1:-1])
            if inner and _CELL_WORD.fullmatch(inner[-1]) and len(inner) <= 9:
                return end
            continue
        if _CELL_WORD.fullmatch(word):
            # "Mesenchymal Stromal Cells (MSCs) cells/kg": the name may be repeated
            again = _NAMED_AGAIN.match(text, end)
            return again.end() if again else end
        if word.lower() in _NOT_DESCRIPTIVE:
            return None
    return None


def _unit_at(text: str, pos: int) -> tuple[str, int, bool] | None:
    """(unit, end, is_cells) of the unit right after a number."""
    pos = m.end() if (m := _PAREN.match(text, pos)) else pos  # "5x10^5 (±20%) CAR T cells"
    if (of := _UNITS_OF.match(text, pos)) and (end := _cells_end(text, of.end())) is not None:
        # "10x10^6 unit of umbilical cord mesenchymal stem cells": the units are cells
        return "cells", _after_abbreviation(text, end), True
    u = _UNIT.match(text, pos)
    if u is not None:
        name = (u.group("u") or u.group("u2")).lower()
        return _UNIT_NAMES[name], u.end(), False
    end = _cells_end(text, pos)
    if end is not None:
        return "cells", _after_abbreviation(text, end), True
    return None


def _after_abbreviation(text: str, end: int) -> int:
    """Past the bracketed abbreviation of the cells when a body-weight or surface-area
    basis follows it: "stem cells (UC-MSCs)/kg"."""
    m = _PAREN.match(text, end)
    return m.end() if m and _BASIS.match(text, m.end()) else end


def find_doses(text: str, *, counts_are_cells: bool = False) -> list[Dose]:
    """Every dose stated in ``text``, in order of appearance. ``counts_are_cells``: the
    text describes a cell therapy, so a scaled count per kg or m² with no unit is cells."""
    doses: list[Dose] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _DIGIT.search(text, pos)
        if m is None:
            break
        start = m.start()
        got = _numbers(text, start)
        if got is None:
            pos = start + 1
            while pos < n and text[pos].isdigit():
                pos += 1
            continue
        numbers, after = got
        unit_at = _unit_at(text, after)
        if (
            unit_at is None
            and counts_are_cells
            and all(x.scaled and x.low >= _MIN_UNSCALED_CELLS for x in numbers)
            and _BASIS.match(text, after)
        ):
            unit_at = ("cells", after, True)  # "2 x 10^6/kg" in a cell therapy's text
        if unit_at is None:
            pos = max(after, start + 1)
            continue
        unit, end, is_cells = unit_at
        basis: DoseBasis | None = None
        if b := _BASIS.match(text, end):
            basis = DoseBasis.BODY_WEIGHT if b.group("kg") else DoseBasis.BODY_SURFACE_AREA
            unit += "/kg" if b.group("kg") else "/m2"
            end = b.end()
        if d := _PER_DAY.match(text, end):
            unit += "/day"
            end = d.end()
        if a := _PER_ADMINISTRATION.match(text, end):
            end = a.end()
        pos = end
        if _OTHER_DENOMINATOR.match(text, end):
            continue  # a concentration or a rate: mg/dL, cells/mL, µg/kg/min
        if is_cells and any(not x.scaled and x.low < _MIN_UNSCALED_CELLS for x in numbers):
            continue
        if not is_cells and any(x.glued for x in numbers):
            continue  # "2 x 105 mg" is not a lost superscript of a cell count
        if unit.startswith("mL") and basis is None:
            continue  # "30 mL of blood", "5 mL DMSO": volumes are doses only per kg or m²
        if unit == "g" and _GAUGE.match(text, end):
            continue  # "18 G needle"
        if unit in ("g", "mg") and _MATERIAL.match(text, end):
            continue  # "5 grams of subcutaneous fat"
        unit_words = text[numbers[-1].end : end].strip()
        qualified = _qualifier(text, numbers[0].start)
        lead = text[qualified[1] : numbers[0].start] if qualified else ""
        for x in numbers:
            # a listed number's words are the number and, in brackets, the unit they share;
            # a number that takes a later one's scale reads on to it ("150 or 300 million cells")
            own = x is numbers[-1] or x.borrowed
            span = text[x.start : end] if own else f"{text[x.start : x.end]} ({unit_words})"
            doses.append(
                Dose(
                    _plain(x.low),
                    None if x.high is None else _plain(x.high),
                    unit,
                    basis,
                    " ".join((lead + span).split()),
                    qualified[0] if qualified else None,
                    qualified[1] if qualified else numbers[0].start,
                )
            )
    return doses
