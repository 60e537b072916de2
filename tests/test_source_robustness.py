"""Records from producers nobody here has seen: every field of the hand-written
fixtures is replaced by a value of the wrong kind (or removed, or the line or
element around it is dropped, doubled or truncated). The parser must answer each
variant with a Trial or a ParseError naming the place, never crash; the Trial must
map to quads; and no value may be made up from the wrong kind of data.

A failure here lists the first variants that broke, with the path mutated.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

import orjson
import pytest
from lxml import etree

import kg.ingest as ingest_module
from kg.errors import ParseError
from kg.ingest import ingest
from kg.mapping import trial_quads
from kg.model import Trial
from kg.sources import ctgov_classic_json, ctgov_v2_json, ctgov_xml, detect
from kg.store import TrialStore
from tests.conftest import FIXTURES

_DELETE = object()
#: Wrong-kind values put in place of every field (and every list item).
_WRONG = [None, 5, 1.5, "x", "", [], {}, [None], [{}], True, _DELETE]
#: Texts a parser would produce by calling ``str`` on a value of the wrong kind.
_MADE_UP = {"{}", "[]", "None", "True", "False", "[None]", "[{}]", "<built-in"}


def _paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            yield from _paths(v, (*path, i))


def _json_path(path: tuple) -> str:
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)


def _set(doc: Any, path: tuple, value: object) -> None:
    for k in path[:-1]:
        doc = doc[k]
    if value is _DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Enum):
        return
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _check(items: list[Trial | ParseError], place: str | None) -> str | None:
    """What is wrong with a parser's answer to one variant (None when it is fine)."""
    if len(items) != 1:
        return f"{len(items)} results for one record"
    item = items[0]
    if isinstance(item, ParseError):
        if (
            place is not None
            and item.where is not None
            and not (item.where.startswith(place) or place.startswith(item.where))
        ):
            return f"error placed at {item.where}: {item.reason}"
        return None
    made_up = [s for s in _strings(item) if s in _MADE_UP or s.startswith("<built-in")]
    if made_up:
        return f"values made up from the wrong kind of data: {made_up}"
    trial_quads(item)
    return None


def _sweep(variants: Iterable[tuple[str, str | None, Any, bytes]], *, strict: bool = False, minimum: int) -> None:
    """Parse every ``(label, place, module, data)`` variant; fail listing the first
    that broke. ``place`` is the JSON path mutated, where an error must point."""
    failures = []
    count = 0
    for label, place, module, data in variants:
        count += 1
        try:
            problem = _check(list(module.records(data, "f", strict=strict)), place)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{label}: {problem}")
    assert count >= minimum, f"only {count} variants: the fixture should give many"
    assert not failures, f"{len(failures)} of {count} variants broke:\n" + "\n".join(failures[:20])


def _json_variants(module: Any, raw: bytes) -> Iterator[tuple[str, str | None, Any, bytes]]:
    doc = orjson.loads(raw)
    for path in list(_paths(doc))[1:]:
        for value in _WRONG:
            variant = orjson.loads(raw)
            _set(variant, path, value)
            place = _json_path(path)
            yield f"{place} = {value!r}", place, module, orjson.dumps(variant)


@pytest.mark.parametrize(
    ("module", "fixture"),
    [
        (ctgov_v2_json, "records/v2/NCT09900101.json"),
        (ctgov_classic_json, "records/classic/NCT09900001.json"),
    ],
    ids=["v2", "classic"],
)
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_json_fields_of_the_wrong_kind(module: Any, fixture: str, strict: bool) -> None:
    _sweep(_json_variants(module, (FIXTURES / fixture).read_bytes()), strict=strict, minimum=1500)


def test_a_wrong_kind_is_a_note_when_lenient_and_an_error_when_strict() -> None:
    raw = orjson.loads((FIXTURES / "records/v2/NCT09900101.json").read_bytes())
    raw["protocolSection"]["conditionsModule"]["conditions"] = [{"name": "Psoriasis"}, "Lupus"]
    data = orjson.dumps(raw)
    place = "$.protocolSection.conditionsModule.conditions[0]"

    [trial] = ctgov_v2_json.records(data, "f.json")
    assert isinstance(trial, Trial)
    assert [c.name for c in trial.conditions] == ["Lupus"]
    assert f"{place}: expected a string, found an object" in trial.source.notes

    [error] = ctgov_v2_json.records(data, "f.json", strict=True)
    assert isinstance(error, ParseError)
    assert (error.file, error.where, error.nct_id) == ("f.json", place, "NCT09900101")
    assert error.reason == "expected a string, found an object"


def test_a_number_where_text_is_expected_reads_as_its_text() -> None:
    raw = orjson.loads((FIXTURES / "records/v2/NCT09900101.json").read_bytes())
    raw["protocolSection"]["identificationModule"]["orgStudyIdInfo"]["id"] = 20190417
    [trial] = ctgov_v2_json.records(orjson.dumps(raw), "f.json", strict=True)
    assert isinstance(trial, Trial)
    assert trial.org_study_id == "20190417"


def _remove(e: Any) -> None:
    e.getparent().remove(e)


def _double(e: Any) -> None:
    e.addnext(copy.deepcopy(e))


def _empty(e: Any) -> None:
    e.clear()


def _text(e: Any) -> None:
    e.text = "x"


def _child(e: Any) -> None:
    e.append(etree.Element("unexpected"))


def _nested(e: Any) -> None:
    e.append(etree.Element(e.tag))


def _xml_variants(raw: bytes) -> Iterator[tuple[str, str | None, Any, bytes]]:
    root = etree.fromstring(raw)
    tree = root.getroottree()
    paths = [tree.getpath(e) for e in root.iter() if isinstance(e.tag, str)][1:]
    for path in paths:
        for mutate in (_remove, _double, _empty, _text, _child, _nested):
            variant = etree.fromstring(raw)
            mutate(variant.getroottree().xpath(path)[0])
            yield f"{mutate.__name__} {path}", None, ctgov_xml, etree.tostring(variant)


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_xml_elements_removed_doubled_emptied_or_nested(strict: bool) -> None:
    _sweep(_xml_variants((FIXTURES / "records/xml/NCT09900011.xml").read_bytes()), strict=strict, minimum=300)


def _page_variants(lines: list[bytes]) -> Iterator[tuple[str, str | None, Any, bytes]]:
    for i in range(len(lines)):
        variants = {
            "drop": lines[:i] + lines[i + 1 :],
            "double": lines[: i + 1] + lines[i:],
            "truncate": lines[:i],
            "swap": lines[:i] + lines[i + 1 : i + 2] + lines[i : i + 1] + lines[i + 2 :],
            "junk": [*lines[:i], b"Phase: 7 | Enrollment: many | ### Arms", *lines[i + 1 :]],
        }
        for name, variant in variants.items():
            data = b"\n".join(variant)
            module = detect(data)
            if module is not None:  # else no longer a page: ingest reports it as unknown
                yield f"{name} line {i + 1}", None, module, data


_PAGES = [
    "pages/veeva_many_arms_NCT04313647.txt",
    "pages/basic_many_arms_NCT02315027.txt",
    "pages/ignite_full_NCT04492501.txt",
]


@pytest.mark.parametrize("fixture", _PAGES, ids=lambda f: f.split("/")[1].split("_")[0])
def test_page_lines_dropped_doubled_swapped_or_truncated(fixture: str) -> None:
    _sweep(_page_variants((FIXTURES / fixture).read_bytes().split(b"\n")), minimum=200)


def test_a_bug_costs_one_trial_not_the_batch(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the mapping ever fail on a trial, ingest names the file and the trial,
    calls it a bug, and stores the other trials."""
    real = ingest_module.trial_quads

    def failing(trial: Trial, options: Any) -> Any:
        if trial.nct_id == "NCT09900001":
            raise KeyError("boom")
        return real(trial, options)

    monkeypatch.setattr(ingest_module, "trial_quads", failing)
    good = FIXTURES / "records/v2/NCT09900101.json"
    bad = FIXTURES / "records/classic/NCT09900001.json"
    ts = TrialStore(tmp_path / "store")
    report = ingest(ts, [bad, good], workers=1)
    assert [(e.file, e.nct_id) for e in report.errors] == [("NCT09900001.json", "NCT09900001")]
    assert "internal error (KeyError: 'boom')" in report.errors[0].reason
    assert "bug in trialkg" in report.errors[0].reason
    assert [nct for nct, _ in ts.trial_graphs()] == ["NCT09900101"]
    assert report.trials_added == 1


def test_a_parser_bug_costs_its_file_not_the_batch(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file's parser itself fails (not one record): ingest names the file and goes on."""

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(ctgov_v2_json, "records", failing)
    good = FIXTURES / "records/classic/NCT09900001.json"
    bad = FIXTURES / "records/v2/NCT09900101.json"
    ts = TrialStore(tmp_path / "store")
    report = ingest(ts, [bad, good], workers=1)
    assert [(e.file, e.nct_id) for e in report.errors] == [("NCT09900101.json", None)]
    assert "internal error (KeyError: 'boom')" in report.errors[0].reason
    assert [nct for nct, _ in ts.trial_graphs()] == ["NCT09900001"]


def _two_v2(raw: bytes) -> bytes:
    first, second = orjson.loads(raw), orjson.loads(raw)
    second["protocolSection"]["identificationModule"]["nctId"] = "NCT09900199"
    return orjson.dumps([first, second])


def _two_classic(raw: bytes) -> bytes:
    first, second = orjson.loads(raw), orjson.loads(raw)
    second["ProtocolSection"]["IdentificationModule"]["NCTId"] = "NCT09900199"
    return orjson.dumps([first, second])


def _two_xml(raw: bytes) -> bytes:
    study = raw.split(b"?>", 1)[1]
    return b"<search_results>" + study + study.replace(b"NCT09900011", b"NCT09900199") + b"</search_results>"


@pytest.mark.parametrize(
    ("module", "fixture", "two", "first_place"),
    [
        (ctgov_v2_json, "records/v2/NCT09900101.json", _two_v2, "$[0]"),
        (ctgov_classic_json, "records/classic/NCT09900001.json", _two_classic, "$[0]"),
        (ctgov_xml, "records/xml/NCT09900011.xml", _two_xml, "/search_results/clinical_study[1]"),
    ],
    ids=["v2", "classic", "xml"],
)
def test_a_parser_bug_costs_its_record_not_the_file(
    module: Any, fixture: str, two: Any, first_place: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record that fails for a reason no check foresaw is reported, at its place, as
    trialkg's bug; the file's other records still parse."""
    real = module.study_to_trial
    calls = []

    def first_fails(*args: Any, **kwargs: Any) -> Trial:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "study_to_trial", first_fails)
    error, trial = module.records(two((FIXTURES / fixture).read_bytes()), "two")
    assert isinstance(error, ParseError)
    assert (error.file, error.where) == ("two", first_place)
    assert error.reason.startswith("internal error (KeyError: 'boom'); this is a bug in trialkg")
    assert isinstance(trial, Trial)
    assert trial.nct_id == "NCT09900199"
