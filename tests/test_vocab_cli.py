"""``trialkg vocab import`` / ``vocab list`` (the sub-app, as the main app mounts it)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kg.cli.vocab import app
from tests.vocab_support import VOCAB_FIXTURES

runner = CliRunner()


def test_import_then_list(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(app, ["import", str(VOCAB_FIXTURES / "desc2024_mini.xml"), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert f"{VOCAB_FIXTURES / 'desc2024_mini.xml'}: mesh-xml -> mesh: 5 concepts" in result.output
    assert "mesh: 5 concepts" in result.output
    result = runner.invoke(app, ["list", "--store", str(store)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:]}
    assert rows == {"curated": "39", "mesh": "5"}


def test_import_without_curated_and_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "terms.tsv"
    lines = (VOCAB_FIXTURES / "mesh_terms_mini.tsv").read_text().splitlines()
    bad.write_text("\n".join([*lines[:3], "D999\tBroken"]) + "\n")
    store = tmp_path / "store"
    result = runner.invoke(app, ["import", str(bad), "--no-curated", "--store", str(store)])
    assert result.exit_code == 1
    assert f"error: {bad}:4: expected 9 tab-separated columns, got 2" in result.output
    assert "mesh: not written" in result.output
    result = runner.invoke(app, ["list", "--store", str(store)])
    assert "no vocabularies" in result.output


def test_list_without_a_store_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["list", "--store", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "error: no store at" in result.output
