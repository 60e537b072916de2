"""Text normalisation for matching names against vocabulary labels.

Both sides (the trial's text and every vocabulary label) go through the same
function, so a rule can only make two strings equal that differ in one of these ways:

* case, accents and compatibility characters (NFKD, "，" is ",");
* punctuation and hyphens ("Graft-versus-Host" = "Graft versus Host");
* possessives and apostrophes ("Crohn's Disease" = "Crohn Disease"), whichever
  character stands for the apostrophe ("Crohn’s", "Crohnʼs", "Crohn´s", and an acute
  accent on a space, "Wharton ́s", as some registry texts write it);
* letters run into digits ("Type1" = "Type 1", "COVID19" = "COVID-19");
* a hyphen after a combining form of four letters or more ending in -o joins the
  word ("Colo-rectal" = "Colorectal", "Gastro-intestinal" = "Gastrointestinal",
  "Osteo-arthritis" = "Osteoarthritis"), so that "Colo-rectal Cancer" is not read as
  "Colo" followed by "Rectal Cancer";
* Roman numerals as words ("Type II" = "Type 2"), "vs" = "versus", "&" = "and";
* British spellings ("leukaemia" = "leukemia", "oesophageal" = "esophageal",
  "tumour" = "tumor");
* plural -s and -ies ("Diseases" = "Disease", "Therapies" = "Therapy"; words ending
  in -ss, -us, -is and -ous are left alone: "sclerosis", "virus").

There is no edit distance, no stemming beyond plurals and no partial-word matching:
two texts match only when their normalised words are equal (in order, or as a set
for inverted MeSH headings such as "Spondylitis, Ankylosing").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PAREN_CONTENT = re.compile(r"\(([^()]*)\)")
_POSSESSIVE = re.compile(r"(?<=[a-z0-9])['’`]s\b")
_APOSTROPHE = re.compile(r"['’`]")
# characters written for an apostrophe; NFKD would turn the spacing acute into a space
# and drop the others, splitting "Wharton´s" into two words
_SPACED_ACUTE = re.compile(r"\s\u0301")
_APOSTROPHE_LIKE = re.compile(r"[\u2018\u2019\u02bc\u00b4\u2032]|" + _SPACED_ACUTE.pattern)
_COMBINING = re.compile(r"(?<![a-z])([a-z]{3,}o)-(?=[a-z]{3})")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_WORD = re.compile(r"[a-z0-9]+")

_ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
    "xi": "11",
    "xii": "12",
}
_WORD_SYNONYMS = {"vs": "versus"}
_NO_PLURAL_ENDINGS = ("ss", "us", "is", "ous")

#: Words that carry no meaning for an unordered comparison of names.
STOPWORDS = frozenset({"of", "the"})


def fold(text: str) -> str:
    """Lower case ASCII: accents removed, compatibility characters decomposed."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


@lru_cache(maxsize=200_000)
def _word(w: str) -> str:
    w = _WORD_SYNONYMS.get(w, w)
    w = _ROMAN.get(w, w)
    if len(w) > 3 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(_NO_PLURAL_ENDINGS):
        w = w[:-1]
    if len(w) > 5 and not w.isdigit():
        # British spellings, in words of six letters or more (abbreviations such as RAEM
        # stay apart): ae -> e inside a word (leukaemia, anaesthesia), a leading oe -> e
        # (oedema), oe before a consonant (foetal, coeliac), -oea (diarrhoea), -our (tumour).
        if "ae" in w[1:]:
            w = w[0] + w[1:].replace("ae", "e")
        if w.startswith("oe"):
            w = "e" + w[2:]
        w = re.sub(r"oe(?=[bcdfghjklmnpqrstvwxz])", "e", w)
        if w.endswith("oea"):
            w = w[:-3] + "ea"
        if w.endswith("our"):
            w = w[:-3] + "or"
    return w


def words_uncached(text: str, drop_parentheses: bool = False) -> tuple[str, ...]:
    """The normalised words of ``text``; ``drop_parentheses`` removes ``(...)`` and ``[...]``."""
    s = fold(_APOSTROPHE_LIKE.sub("'", text))
    if drop_parentheses:
        s = _PAREN.sub(" ", s)
    s = _COMBINING.sub(r"\1", s)
    s = _POSSESSIVE.sub("", s)
    s = _APOSTROPHE.sub("", s)
    s = s.replace("&", " and ")
    s = _LETTER_DIGIT.sub(" ", s)
    return tuple(_word(w) for w in _WORD.findall(s))


#: :func:`words_uncached` with a cache for the trial texts seen while linking.
words = lru_cache(maxsize=50_000)(words_uncached)


# a chunk may run on over combining-form hyphens (see words_uncached)
_CHUNK = re.compile(r"(?:[A-Za-z]{3,}[oO]-(?=[A-Za-z]{3}))*[^\s\-/,;:()\[\]]+")


def located_words(text: str) -> list[tuple[str, int, int]]:
    """``(normalised word, start, end)``: each normalised word of ``text`` with the
    character range of the piece of the original text it came from, so that a match
    over normalised words can be reported as the text wrote it."""
    out: list[tuple[str, int, int]] = []
    # an acute accent on a space is an apostrophe ("Wharton ́s"): one chunk, same length
    for m in _CHUNK.finditer(_SPACED_ACUTE.sub("''", text)):
        for w in words(m.group(0)):
            out.append((w, m.start(), m.end()))
    return out


def ordered_key(ws: tuple[str, ...]) -> str:
    return " ".join(ws)


def unordered_key(ws: tuple[str, ...]) -> str:
    return " ".join(sorted(w for w in ws if w not in STOPWORDS))


def uninverted(label: str) -> str | None:
    """MeSH inverts headings at commas ("Leukemia, Myeloid, Acute"); the natural
    order reverses the comma-separated parts ("Acute Myeloid Leukemia"). ``None`` when
    the label has no comma."""
    if "," not in label:
        return None
    parts = [p.strip() for p in label.split(",") if p.strip()]
    return " ".join(reversed(parts)) if len(parts) > 1 else None


def parenthesised(text: str) -> list[str]:
    """The contents of ``(...)`` groups: "Systemic Sclerosis (SSc)" -> ["SSc"]."""
    return [m.strip() for m in _PAREN_CONTENT.findall(text) if m.strip()]
