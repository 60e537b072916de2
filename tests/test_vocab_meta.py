"""Every vocabulary loader module is registered, and every registered format has a
fixture in its real layout that detection by content assigns to it (and to no other)."""

from __future__ import annotations

import pkgutil
from types import ModuleType

import kg.vocab
from kg.vocab import REGISTRY, curated, detect
from kg.vocab._io import head
from tests.vocab_support import VOCAB_FIXTURES

HELPERS = {"_io", "_mesh", "_obo", "records", "skos"}


def test_every_loader_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(kg.vocab.__path__)} - HELPERS
    registered = {m.__name__.rsplit(".", 1)[-1] for m in REGISTRY.values()}
    assert modules == registered


def test_loader_interface() -> None:
    for name, module in REGISTRY.items():
        assert name == module.FORMAT
        assert module.DESCRIPTION
        assert callable(module.sniff) and callable(module.load)
        assert module.VOCABULARY is None or isinstance(module.VOCABULARY, str)


def test_every_format_has_a_fixture_detected_as_itself() -> None:
    fixtures = [*sorted(VOCAB_FIXTURES.iterdir()), curated.bundled_path()]
    detected: dict[str, list[str]] = {}
    for path in fixtures:
        module = detect(head(path))
        assert module is not None, f"{path.name} is not recognised"
        detected.setdefault(module.FORMAT, []).append(path.name)
        others = [m.FORMAT for m in REGISTRY.values() if m is not module and m.sniff(head(path))]
        assert not others, f"{path.name} is also taken for {others}"
    assert set(detected) == set(REGISTRY), f"formats without a fixture: {set(REGISTRY) - set(detected)}"


def test_non_vocabulary_heads_are_not_recognised() -> None:
    heads = (b"", b"# a README\n\nsome words\n", b'{"protocolSection": {}}', b"<clinical_study>\n</clinical_study>\n")
    for text in heads:
        module: ModuleType | None = detect(text)
        assert module is None, text
