"""Mirror pages saved as HTML read like the text pages: the seeds, rendered into HTML
here (paragraphs, line breaks, lists, nested divs, a stale charset declaration, scripts
and styles around them), give the same trials as the seeds themselves."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path
from typing import Any

import pytest

from kg.model import Trial
from kg.reader import read_trials
from kg.sources import basic_info_page, veeva_page
from kg.sources._html import html_to_text, looks_like_html
from tests.conftest import EXAMPLES, FIXTURES

SEEDS = sorted((EXAMPLES / "pages").glob("*.txt"))


def _as_html(text: str) -> bytes:
    """A page's text as a browser might have saved it: each paragraph becomes a <p> with
    <br> between its lines, a list, or divs, in turn; invisible content around it."""
    blocks = []
    for i, para in enumerate(p for p in re.split(r"\n\s*\n", text) if p.strip()):
        lines = [html.escape(line.strip()) for line in para.splitlines() if line.strip()]
        if i % 3 == 0:
            blocks.append("<p>" + "<br>\n".join(lines) + "</p>")
        elif i % 3 == 1:
            blocks.append("<ul>" + "".join(f"<li><span>{line}</span></li>" for line in lines) + "</ul>")
        else:
            blocks.append('<div class="card">' + "".join(f"<div>{line}</div>" for line in lines) + "</div>")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="iso-8859-1"><title>Trial</title>'
        "<style>p { margin: 0 }</style><script>var x = '<p>Phase 3</p>';</script></head>\n"
        "<body><noscript>Enable JavaScript: Status: WITHDRAWN</noscript>\n"
        + "\n".join(blocks)
        + "\n<script>track('Enrollment: 9999')</script></body></html>\n"
    )
    return page.encode("utf-8")


def _plain(trial: Trial) -> dict[str, Any]:
    data = dataclasses.asdict(trial)
    for key in ("file", "checksum", "notes"):
        data["source"].pop(key)
    return _squash(data)


def _squash(value: Any) -> Any:
    """Free text compared word by word: a saved page re-flows white space."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {k: _squash(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_squash(v) for v in value]
    return value


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_saved_as_html_gives_the_same_trial(seed: Path, tmp_path: Path) -> None:
    saved = tmp_path / (seed.stem + ".html")
    saved.write_bytes(_as_html(seed.read_text(encoding="utf-8")))
    [from_text] = read_trials([seed])
    [from_html] = read_trials([saved])
    assert isinstance(from_text, Trial), from_text
    assert isinstance(from_html, Trial), from_html
    assert from_html.source.format == from_text.source.format
    assert from_html.source.file == saved.name
    assert _plain(from_html) == _plain(from_text)


def test_what_is_rendered_and_what_is_not() -> None:
    page = b"""<!doctype html><html><head><title>Not shown</title></head><body>
    <h2>Status and phase</h2>
    <div><span>Completed</span>   <b>now</b></div>
    <table><tr><th>Sponsor:</th><td>Example &amp; Co.</td></tr><tr><td>Phase:</td><td>PHASE2</td></tr></table>
    <p>one<br>two</p>
    <pre>  keep
  these lines</pre>
    <!-- Enrollment: 10 -->
    <select><option>Choose</option></select>
    </body></html>"""
    assert html_to_text(page).decode("utf-8").split("\n") == [
        "Status and phase",
        "",
        "Completed now",
        "",
        "Sponsor:\tExample & Co.",
        "",
        "Phase:\tPHASE2",
        "",
        "one",
        "two",
        "",
        "keep",
        "these lines",
        "",
    ]


def test_encodings_utf8_whatever_declared_else_the_declaration() -> None:
    title = "Étude de phase 2 à Québec"
    body = f"<html><head><meta charset='iso-8859-1'></head><body><p>{title}</p></body></html>"
    assert html_to_text(body.encode("utf-8")) == f"{title}\n".encode()
    assert html_to_text(body.encode("iso-8859-1")) == f"{title}\n".encode()


def test_only_html_documents_are_taken_for_html() -> None:
    assert looks_like_html(b"<!DOCTYPE html>\n<html>")
    assert looks_like_html(b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">')
    assert looks_like_html(b"\n  <!-- saved from url=(0042)https://example.org/ -->\n<HTML><body>")
    assert not looks_like_html(b'{"protocolSection": {"descriptionModule": {"briefSummary": "<html> tags"}}}')
    assert not looks_like_html(b"Brief Title: Markup in trials: <html> and <!DOCTYPE html>")
    for path in (FIXTURES / "records/xml").glob("*.xml"):
        assert not looks_like_html(path.read_bytes()), path.name
    for seed in SEEDS:
        assert not looks_like_html(seed.read_bytes()), seed.name


def test_truncated_or_garbled_html_gives_a_trial_or_a_clean_error(tmp_path: Path) -> None:
    page = _as_html(SEEDS[0].read_text(encoding="utf-8"))
    cuts = range(len(page) // 40, len(page), len(page) // 40)
    variants = [page[:n] for n in cuts] + [page.replace(b"</div>", b"<div>"), page.replace(b"<", b"<<", 7)]
    for i, data in enumerate(variants):
        path = tmp_path / f"v{i}.html"
        path.write_bytes(data)
        for item in read_trials([path]):
            assert isinstance(item, Trial) or item.file == path.name, item


# --------------------------------------------------------------------------
# Re-laid-out pages: what a site redesign or another way of saving a page changes
# (a colon after each heading, a value on its heading's line, a margin, label/value
# table rows) leaves the trial as the seed gives it.

_LAYOUTS = {"veeva-page": veeva_page.HEADINGS, "basic-info-page": basic_info_page.HEADINGS}


def _seeds_with_headings() -> list[tuple[Path, str]]:
    out = []
    for seed in SEEDS:
        [trial] = read_trials([seed])
        assert isinstance(trial, Trial)
        if trial.source.format.value in _LAYOUTS:
            out.append((seed, trial.source.format.value))
    return out


def _heading_names(layout: str, *, valued: bool = False) -> set[str]:
    return {n.casefold() for h in _LAYOUTS[layout] for n in h.names if h.check is not None or not valued}


def _relaid(text: str, layout: str, how: str) -> str:
    lines = text.split("\n")
    if how == "margin":  # copied with a margin of no-break spaces before every line
        return "\n".join("\u00a0\u00a0" + ln if ln.strip() else ln for ln in lines)
    names = _heading_names(layout, valued=how != "colon")
    out: list[str] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.strip().casefold() in names:
            if how == "colon":
                out.append(ln + ":")
            else:  # "inline": the value joins its heading's line
                j = i + 1
                while not lines[j].strip():
                    j += 1
                out.append(f"{ln}: {lines[j].strip()}")
                i = j
        else:
            out.append(ln)
        i += 1
    return "\n".join(out)


def _as_table_html(text: str, layout: str) -> bytes:
    """The page as HTML whose value headings and values are table rows (th, td)."""
    names = _heading_names(layout, valued=True)
    lines = text.split("\n")
    parts = []
    i = 0
    while i < len(lines):
        ln = lines[i].strip()
        if ln.casefold() in names:
            j = i + 1
            while not lines[j].strip():
                j += 1
            parts.append(f"<table><tr><th>{html.escape(ln)}</th> <td>{html.escape(lines[j].strip())}</td></tr></table>")
            i = j
        elif ln:
            parts.append(f"<p>{html.escape(ln)}</p>")
        i += 1
    return ("<!DOCTYPE html><html><body>" + "\n".join(parts) + "</body></html>").encode("utf-8")


@pytest.mark.parametrize("how", ["colon", "inline", "margin", "table"])
@pytest.mark.parametrize(("seed", "layout"), _seeds_with_headings(), ids=lambda v: getattr(v, "name", v))
def test_relaid_page_gives_the_same_trial(seed: Path, layout: str, how: str, tmp_path: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    variant = tmp_path / (seed.stem + (".html" if how == "table" else ".txt"))
    if how == "table":
        variant.write_bytes(_as_table_html(text, layout))
    else:
        variant.write_text(_relaid(text, layout, how), encoding="utf-8")
    assert variant.read_bytes() != seed.read_bytes()
    [from_seed] = read_trials([seed])
    [from_variant] = read_trials([variant])
    assert isinstance(from_seed, Trial), from_seed
    assert isinstance(from_variant, Trial), from_variant
    plain_seed, plain_variant = _plain(from_seed), _plain(from_variant)
    if how == "table":  # a page of paragraphs keeps no list layout in the criteria text
        for plain in (plain_seed, plain_variant):
            plain["eligibility"].pop("criteria")
    assert plain_variant == plain_seed
    if how in ("colon", "margin"):
        assert from_variant.source.notes == from_seed.source.notes


def _move(text: str, start: str, end: str, before: str) -> str:
    """The lines from the line ``start`` up to the line ``end`` moved before the line ``before``."""
    lines = text.split("\n")
    i, j = lines.index(start), lines.index(end)
    block, rest = lines[i:j], lines[:i] + lines[j:]
    k = rest.index(before)
    return "\n".join(rest[:k] + block + rest[k:])


@pytest.mark.parametrize(
    ("seed", "start", "end", "before"),
    [
        ("001_1ad9e6c4f6c96f89.txt", "Sponsors", "Responsible Party", "Eligibility Criteria"),
        ("004_af3d16ab93fc7196.txt", "Sponsors", "Responsible Party", "Eligibility Criteria"),
        ("001_1ad9e6c4f6c96f89.txt", "Conditions", "Study Design", "Brief Summary"),
        ("000_33f8ef63051a5fa9.txt", "Enrollment", "Sex", "Inclusion criteria"),
        ("003_a088c8f5c9a0d108.txt", "Enrollment", "Sex", "Inclusion criteria"),
    ],
)
def test_section_out_of_the_usual_order_is_read_where_it_is(
    seed: str, start: str, end: str, before: str, tmp_path: Path
) -> None:
    """A section with its own evidence (boilerplate, a value of the right shape) moved
    elsewhere on the page keeps its values, and the page's other sections keep theirs."""
    path = EXAMPLES / "pages" / seed
    variant = tmp_path / seed
    variant.write_text(_move(path.read_text(encoding="utf-8"), start, end, before), encoding="utf-8")
    [from_seed] = read_trials([path])
    [from_variant] = read_trials([variant])
    assert isinstance(from_seed, Trial) and isinstance(from_variant, Trial), from_variant
    assert _plain(from_variant) == _plain(from_seed)
    [moved] = [n for n in from_variant.source.notes if n not in from_seed.source.notes]
    assert f'heading "{start}" is out of the page\'s usual order' in moved


def test_heading_without_evidence_out_of_order_is_noted(tmp_path: Path) -> None:
    """A plain heading ("Funder types": no boilerplate, no value check) printed out of
    the layout's order could be a word in free text: it is left as text, with a note."""
    path = EXAMPLES / "pages" / "000_33f8ef63051a5fa9.txt"
    text = _move(path.read_text(encoding="utf-8"), "Funder types", "Identifiers", "Status and phase")
    variant = tmp_path / path.name
    variant.write_text(text, encoding="utf-8")
    [trial] = read_trials([variant])
    assert isinstance(trial, Trial), trial
    line = text.split("\n").index("Funder types") + 1
    assert (
        f'line {line}: "Funder types" is a heading out of the page\'s usual order; read as text' in trial.source.notes
    )
