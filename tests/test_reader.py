"""How files reach the parsers: gzip unpacked, UTF-8 byte-order marks dropped, UTF-16
and UTF-32 text (what Windows PowerShell writes by default) converted, empty files named
as such. Expected values are the fixtures' own (NCT ID, brief title as written there)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

import kg.reader
from kg.errors import ParseError
from kg.model import Trial
from kg.reader import read_trials
from kg.sources import ctgov_v2_json
from tests.conftest import FIXTURES

V2 = FIXTURES / "records/v2/NCT09900101.json"
CLASSIC = FIXTURES / "records/classic/NCT09900001.json"
XML = FIXTURES / "records/xml/NCT09900011.xml"
# the brief titles as the fixture files spell them
TITLES = {
    "NCT09900101": "Umbilical Cord MSCs for Refractory Lupus",
    "NCT09900001": "Cord Blood Cells in Knee Osteoarthritis: a Registry",
    "NCT09900011": "Umbilical Cord MSCs in Refractory Lupus",
}


def _titles(paths: list[Path]) -> tuple[dict[str, str | None], list[str]]:
    titles: dict[str, str | None] = {}
    errors = []
    for item in read_trials(paths):
        if isinstance(item, Trial):
            titles[item.source.file] = item.brief_title
        else:
            errors.append(str(item))
    return titles, errors


def test_fixture_titles_are_as_written() -> None:
    # guards the expectations below: they are read from the files themselves
    for path, nct in ((V2, "NCT09900101"), (CLASSIC, "NCT09900001"), (XML, "NCT09900011")):
        assert TITLES[nct] in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", "\ufeff"), ("utf-16-le", "\ufeff"), ("utf-16-be", "\ufeff"), ("utf-32-le", "\ufeff"), ("utf-16", "")],
    ids=["utf8-bom", "utf16le", "utf16be", "utf32le", "utf16-python"],
)
def test_byte_order_marks_and_wide_encodings(tmp_path: Path, encoding: str, bom: str) -> None:
    paths = []
    for src in (V2, CLASSIC, XML):
        text = src.read_text(encoding="utf-8")
        if src.suffix == ".xml":  # the declaration must name the encoding the bytes are in
            text = text.replace(
                'encoding="UTF-8"', f'encoding="{encoding.upper().removesuffix("-LE").removesuffix("-BE")}"'
            )
        out = tmp_path / f"{src.stem}{src.suffix}"
        out.write_bytes((bom + text).encode(encoding))
        paths.append(out)
    titles, errors = _titles(paths)
    assert errors == []
    assert titles == {
        "NCT09900101.json": TITLES["NCT09900101"],
        "NCT09900001.json": TITLES["NCT09900001"],
        "NCT09900011.xml": TITLES["NCT09900011"],
    }


def test_gzip_files_and_gzip_members_of_a_zip(tmp_path: Path) -> None:
    (tmp_path / "study.json.gz").write_bytes(gzip.compress(V2.read_bytes()))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as zf:
        zf.writestr("records/old.xml.gz", gzip.compress(XML.read_bytes()))
    titles, errors = _titles([tmp_path / "study.json.gz", tmp_path / "bundle.zip"])
    assert errors == []
    assert titles == {
        "study.json.gz": TITLES["NCT09900101"],
        "bundle.zip!records/old.xml.gz": TITLES["NCT09900011"],
    }


def test_same_record_same_checksum_however_stored(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/x.json").write_bytes(V2.read_bytes())
    (tmp_path / "b/x.json").write_bytes(gzip.compress(b"\xef\xbb\xbf" + V2.read_bytes()))
    [a] = read_trials([tmp_path / "a/x.json"])
    [b] = read_trials([tmp_path / "b/x.json"])
    assert isinstance(a, Trial) and isinstance(b, Trial)
    assert a.source.checksum == b.source.checksum


def test_broken_truncated_and_oversized_gzip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = gzip.compress(V2.read_bytes())
    (tmp_path / "broken.json.gz").write_bytes(packed[:10] + b"\x00" * 40)
    (tmp_path / "cut.json.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "empty.json").write_bytes(b"  \n")
    errors = {e.file: e.reason for e in read_trials([tmp_path]) if isinstance(e, ParseError)}
    assert errors["broken.json.gz"].startswith("broken gzip data")
    assert errors["cut.json.gz"] == "truncated gzip data"
    assert errors["empty.json"] == "empty file"

    (tmp_path / "big").mkdir()
    (tmp_path / "big/big.json.gz").write_bytes(packed)
    monkeypatch.setattr(kg.reader, "MAX_MEMBER_BYTES", 1000)
    [error] = read_trials([tmp_path / "big/big.json.gz"])
    assert isinstance(error, ParseError)
    assert error.reason == "unpacks to over the 1000-byte limit"


def test_invalid_utf16_is_named(tmp_path: Path) -> None:
    (tmp_path / "odd.json").write_bytes(b"\xff\xfe" + "{}".encode("utf-16-le") + b"\x00\xd8")
    [error] = read_trials([tmp_path / "odd.json"])
    assert isinstance(error, ParseError)
    assert error.file == "odd.json"
    assert error.reason.startswith("not valid UTF-16 text at byte")


def test_a_format_modules_parse_reads_files_as_ingest_does(tmp_path: Path) -> None:
    packed = tmp_path / "study.json.gz"
    packed.write_bytes(gzip.compress(b"\xef\xbb\xbf" + V2.read_bytes()))
    [trial] = ctgov_v2_json.parse(packed)
    assert (trial.nct_id, trial.brief_title) == ("NCT09900101", TITLES["NCT09900101"])
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(V2.read_bytes())[:40])
    with pytest.raises(ParseError, match="truncated gzip data"):
        list(ctgov_v2_json.parse(tmp_path / "cut.json.gz"))
