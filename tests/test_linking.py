"""The linker on the seed pages and on hand-made trials. Expected IDs come from the
pages (examples/pages/) and from the vocabulary files (../shared/vocab), read by hand."""

from __future__ import annotations

import copy
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg import terms as T
from kg.cli import app
from kg.cli._text import trial_text
from kg.enums import CellOrigin, InterventionType, LinkMethod, SourceFormat
from kg.ingest import LINKER_CACHE_DIR
from kg.linking import Linker
from kg.linking.index import LinkIndex
from kg.linking.normalise import located_words, unordered_key, words
from kg.mapping import MappingOptions, trial_quads
from kg.model import Arm, Condition, Intervention, Link, MeshTerm, Source, Trial
from kg.readback import show
from kg.sources import SNIFF_BYTES, detect
from kg.statistics import store_stats
from kg.store import TrialStore
from kg.vocab import import_paths
from tests.conftest import EXAMPLES
from tests.vocab_support import VOCAB_FIXTURES, shared_linker

MSC, MSC_UC, MSC_ADIPOSE = "CL:0000134", "CL:0002569", "CL:0002570"
UC, ADIPOSE, PLACENTA = "UBERON:0002331", "UBERON:0001013", "UBERON:0001987"


def ids(links: list[Link]) -> set[str]:
    return {T.curie(link.iri).replace("mesh:", "").replace("drugbank:", "") for link in links}


def seeds() -> dict[str, Trial]:
    out = {}
    for page in sorted((EXAMPLES / "pages").iterdir()):
        module = detect(page.read_bytes()[:SNIFF_BYTES])
        assert module is not None, page
        for trial in module.parse(page):
            out[trial.nct_id] = trial
    return out


def trial(conditions: list[str] = (), interventions: list[Intervention] = (), **kw: object) -> Trial:  # type: ignore[assignment]
    return Trial(
        "NCT00000001",
        Source(SourceFormat.CTGOV_V2_JSON, "test.json", "0"),
        conditions=[Condition(c) for c in conditions],
        interventions=list(interventions),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def full(vocab_dir: Path) -> Linker:
    return shared_linker(vocab_dir)


@pytest.fixture(scope="module")
def linked_seeds(full: Linker) -> dict[str, Trial]:
    out = seeds()
    for t in out.values():
        full.link(t)
    return out


def condition(t: Trial, name: str) -> Condition:
    (c,) = [c for c in t.conditions if c.name == name]
    return c


def intervention(t: Trial, name: str) -> Intervention:
    (iv,) = [iv for iv in t.interventions if iv.name == name]
    return iv


# -- seeds with the shared vocabulary --------------------------------------------


def test_seed_conditions(linked_seeds: dict[str, Trial]) -> None:
    assert ids(condition(linked_seeds["NCT03392311"], "Psoriasis").links) == {"D011565"}
    assert ids(condition(linked_seeds["NCT03392311"], "Drug Toxicity").links) == {"D064420"}
    assert ids(condition(linked_seeds["NCT03219801"], "Systemic Lupus Erythematosus").links) == {"D008180"}
    assert ids(condition(linked_seeds["NCT01420432"], "Ankylosing Spondylitis").links) == {"D013167"}
    psoriasis = condition(linked_seeds["NCT03392311"], "Psoriasis").links[0]
    assert (psoriasis.method, psoriasis.matched, psoriasis.label) == (LinkMethod.EXACT, "Psoriasis", "Psoriasis")
    # word order: the page says "Ankylosing Spondylitis", MeSH "Spondylitis, Ankylosing"
    spondylitis = condition(linked_seeds["NCT01420432"], "Ankylosing Spondylitis").links[0]
    assert spondylitis.label == "Spondylitis, Ankylosing"
    assert condition(linked_seeds["NCT03392311"], "Drug Effect").links == []  # no MeSH name: unmatched


def test_condition_that_is_a_cell_type(linked_seeds: dict[str, Trial]) -> None:
    msc = condition(linked_seeds["NCT03392311"], "Mesenchymal Stromal Cells")
    assert msc.is_cell_type
    assert ids(msc.links) == {MSC}
    assert {link.vocabulary for link in msc.links} == {"CL"}


def test_run_together_line_is_split(linked_seeds: dict[str, Trial]) -> None:
    t = linked_seeds["NCT03745417"]
    line = "Mesenchymal Stromal Cells Psoriasis Drug Effect Drug Toxicity"
    assert [(c.name, c.verbatim) for c in t.conditions] == [
        ("Mesenchymal Stromal Cells", line),
        ("Psoriasis", line),
        ("Drug Effect", line),
        ("Drug Toxicity", line),
    ]
    # "Drug Effect" names nothing in MeSH: the split stays uncertain
    assert all(c.split_uncertain for c in t.conditions)
    assert ids(condition(t, "Psoriasis").links) == {"D011565"}
    assert condition(t, "Mesenchymal Stromal Cells").is_cell_type


def test_split_of_a_fully_covered_line_is_certain(full: Linker) -> None:
    line = "Psoriasis Systemic Lupus Erythematosus"
    t = trial()
    t.conditions = [Condition(line, verbatim=line, split_uncertain=True)]
    full.link(t)
    assert [(c.name, c.split_uncertain) for c in t.conditions] == [
        ("Psoriasis", False),
        ("Systemic Lupus Erythematosus", False),
    ]
    assert [ids(c.links) for c in t.conditions] == [{"D011565"}, {"D008180"}]
    # a line that is one name is certain; one that names nothing stays as it was
    for line, uncertain in (("Systemic Lupus Erythematosus", False), ("Drug Effect", True)):
        t = trial()
        t.conditions = [Condition(line, verbatim=line, split_uncertain=True)]
        full.link(t)
        assert [(c.name, c.verbatim, c.split_uncertain) for c in t.conditions] == [(line, line, uncertain)]


def test_seed_drugs(linked_seeds: dict[str, Trial]) -> None:
    calcipotriol = intervention(linked_seeds["NCT03392311"], "Calcipotriol ointment")
    # ChEBI and DrugBank by name, MeSH calcipotriene by the curated cross-reference
    assert ids(calcipotriol.links) == {"CHEBI:50749", "DB02300", "C055085"}
    assert calcipotriol.cell_therapy is None


def test_seed_cell_therapies(linked_seeds: dict[str, Trial]) -> None:
    ad = intervention(linked_seeds["NCT03392311"], "adipose-derived multipotent mesenchymal stem cells").cell_therapy
    assert ad is not None
    assert ids(ad.cell_types) == {MSC, MSC_ADIPOSE}
    assert ids(ad.source_tissues) == {ADIPOSE}
    uc = intervention(linked_seeds["NCT01420432"], "Human umbilical cord-derived MSCs").cell_therapy
    assert uc is not None and ids(uc.source_tissues) == {UC} and ids(uc.cell_types) == {MSC, MSC_UC}
    ucmsc = intervention(linked_seeds["NCT03745417"], "Umbilical cord mesenchymal stem cells").cell_therapy
    assert ucmsc is not None and ids(ucmsc.source_tissues) == {UC}
    # the SLE seed names only "mesenchymal stem cells"; the description gives the cord and
    # the arm description says "allogeneic"
    sle = intervention(linked_seeds["NCT03219801"], "mesenchymal stem cells").cell_therapy
    assert sle is not None
    assert ids(sle.source_tissues) == {UC}
    assert sle.origin is CellOrigin.ALLOGENEIC
    assert sle.evidence is not None and "allogeneic" in sle.evidence


# -- the curated vocabulary alone ---------------------------------------------------


def test_curated_only_types_the_seed_cell_therapies() -> None:
    linker = Linker.curated_only()
    got = seeds()
    for t in got.values():
        linker.link(t)
    ad = intervention(got["NCT03392311"], "adipose-derived multipotent mesenchymal stem cells").cell_therapy
    assert ad is not None and ids(ad.cell_types) >= {MSC} and ids(ad.source_tissues) == {ADIPOSE}
    uc = intervention(got["NCT01420432"], "Human umbilical cord-derived MSCs").cell_therapy
    assert uc is not None and ids(uc.source_tissues) == {UC}
    assert condition(got["NCT03392311"], "Mesenchymal Stromal Cells").is_cell_type
    assert condition(got["NCT03392311"], "Psoriasis").links == []  # no MeSH without the vocabulary


@pytest.mark.parametrize(
    ("name", "cell_types", "tissues", "origin"),
    [
        ("AD-MSCs", {MSC, MSC_ADIPOSE}, {ADIPOSE}, None),
        ("ADSCs", {MSC, MSC_ADIPOSE}, {ADIPOSE}, None),
        ("UC-MSCs", {MSC, MSC_UC}, {UC}, None),
        ("UCMSCs", {MSC, MSC_UC}, {UC}, None),
        ("hUC-MSC", {MSC, MSC_UC}, {UC}, None),
        ("WJ-MSC", {MSC, "CL:0002568"}, {"UBERON:0003422"}, None),
        ("BM-MSCs", {MSC, "CL:0002540"}, {"UBERON:0002371"}, None),
        ("allo-hMSCs", {MSC}, set(), CellOrigin.ALLOGENEIC),
        ("Autologous Adipose Tissue derived MSCs", {MSC, MSC_ADIPOSE}, {ADIPOSE}, CellOrigin.AUTOLOGOUS),
        ("umbilical cord/placenta-derived MSCs", {MSC}, {UC, PLACENTA}, None),
        ("mesenchymal stromal cells", {MSC}, set(), None),
        ("MSC's", {MSC}, set(), None),
        # the apostrophe as NCT04432545 writes it: an acute accent on a space
        ("Mesenchymal Stem Cells from Wharton \u0301s jelly", {MSC, "CL:0002568"}, {"UBERON:0003422"}, None),
        ("Mesenchymal Stem Cells from Wharton\u00b4s jelly", {MSC, "CL:0002568"}, {"UBERON:0003422"}, None),
        ("hematopoietic stem cell transplantation", {"CL:0000037"}, set(), None),
    ],
)
def test_cell_therapy_patterns(name: str, cell_types: set[str], tissues: set[str], origin: CellOrigin | None) -> None:
    t = trial(interventions=[Intervention(name, InterventionType.BIOLOGICAL)])
    Linker.curated_only().link(t)
    ct = t.interventions[0].cell_therapy
    assert ct is not None
    assert (ids(ct.cell_types), ids(ct.source_tissues), ct.origin) == (cell_types, tissues, origin)


@pytest.mark.parametrize(
    "name",
    [
        "Non-mesenchymal stem cells",
        "Non-MSCs",
        "MSC-derived exosomes",
        "Bone Marrow Mesenchymal Stem Cell Derived Extracellular Vesicles",
        "mesenchymal stem cell conditioned medium",
        "Calcipotriol ointment",
        # negated, also when the negation stands before a hyphenated abbreviation
        "Saline containing 1% Human serum albumin\uff08solution without UC-MSCs\uff09",  # NCT04288102
        "kidney transplantation without MSC infusion",  # NCT00658073
        "Culture medium without MSC.",  # NCT01429012
        # an immunoglobulin against cells is no cell (Grafalon's other name, NCT01949129)
        "Anti-human T-lymphocyte immunoglobulin",
    ],
)
def test_not_cell_therapies(name: str) -> None:
    t = trial(interventions=[Intervention(name, InterventionType.BIOLOGICAL)])
    Linker.curated_only().link(t)
    assert t.interventions[0].cell_therapy is None


@pytest.mark.parametrize(
    ("description", "origin"),
    [
        # the phrasing of corpus records (NCT02247973, NCT04444271, NCT02323789, NCT04340609,
        # NCT02957552, NCT02407470, NCT04224207)
        ("bone marrow derived mesenchymal stem cells from related donors.", CellOrigin.ALLOGENEIC),
        ("allergic reactions to third party MSCs", CellOrigin.ALLOGENEIC),
        ("expanded from bone marrow from healthy donors", CellOrigin.ALLOGENEIC),
        ("The UC-MSCs from a donor will be cultured", CellOrigin.ALLOGENEIC),
        ("Donor-specific, bone marrow derived mesenchymal stem (stromal) cells", CellOrigin.ALLOGENEIC),
        ("and then patient's own AD-MSCs at a dose of 3000000 cells/kg/d", CellOrigin.AUTOLOGOUS),
        ("isolated from Wharton's jelly that was collected allogenicly from a single donor", CellOrigin.ALLOGENEIC),
        # a donor of something else is no cue (NCT02012153, NCT02414269)
        ("autologous MSCs in addition to the living-donor kidney transplantation", CellOrigin.AUTOLOGOUS),
        ("leukapheresis product will be obtained in the blood donor facility", None),
        # either: not decided (NCT01864889)
        ("anti-CD19-CAR retroviral vector-transduced autologous or donor-derived T cells", None),
    ],
)
def test_cell_origin_cues(description: str, origin: CellOrigin | None) -> None:
    iv = Intervention("Mesenchymal stem cells", InterventionType.BIOLOGICAL, description=description)
    Linker.curated_only().link(trial(interventions=[iv]))
    assert iv.cell_therapy is not None and iv.cell_therapy.origin == origin


def test_cell_therapy_origin_conflict_and_arm_context() -> None:
    iv = Intervention("MSC", InterventionType.BIOLOGICAL, description="autologous or allogeneic MSCs")
    t = trial(interventions=[iv])
    Linker.curated_only().link(t)
    assert iv.cell_therapy is not None and iv.cell_therapy.origin is None  # both cues: not decided
    # an arm that does not hold the intervention gives nothing
    iv2 = Intervention("Mesenchymal stem cells", InterventionType.BIOLOGICAL, arm_labels=["MSC arm"])
    arms = [
        Arm("MSC arm", description="Umbilical cord MSCs, allogeneic"),
        Arm("Other arm", description="autologous bone marrow"),
    ]
    t2 = trial(interventions=[iv2], arms=arms)
    Linker.curated_only().link(t2)
    ct = iv2.cell_therapy
    assert ct is not None
    assert (ids(ct.source_tissues), ct.origin) == ({UC}, CellOrigin.ALLOGENEIC)
    # a drug whose arm mentions cells is not a cell therapy
    drug = Intervention("Calcipotriol ointment", InterventionType.DRUG, arm_labels=["MSC arm"])
    t3 = trial(interventions=[drug], arms=arms)
    Linker.curated_only().link(t3)
    assert drug.cell_therapy is None


# -- no loose matching ---------------------------------------------------------------


def test_triple_therapy_links_nothing(full: Linker) -> None:
    t = trial(["triple therapy"], [Intervention("triple therapy", InterventionType.DRUG)])
    full.link(t)
    assert t.conditions[0].links == [] and not t.conditions[0].is_cell_type
    assert t.interventions[0].links == [] and t.interventions[0].cell_therapy is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Crohn's Disease", {"D003424"}),
        ("Crohns Disease", {"D003424"}),
        ("Spondylitis, Ankylosing", {"D013167"}),
        ("Graft-versus-host disease", {"D006086"}),
        ("Acute Myeloid Leukaemia", {"D015470"}),
        ("Type1 Diabetes Mellitus", {"D003922"}),
        ("Type I Diabetes Mellitus", {"D003922"}),
        ("Moderate to Severe Psoriasis", {"D011565"}),  # found inside a longer name
        ("Lumbar Disc Disease", set()),  # "Disease" alone is not linked
        ("Relapsed Leukemia", {"D007938"}),  # "Relapse" (a disease attribute) is not
        ("Non-Small Cell Lung Cancer", {"D002289"}),  # never small-cell lung cancer
        ("Healthy Volunteers", set()),
        ("Colo-rectal Cancer", {"D015179"}),  # Colorectal Neoplasms, not "Colo" + Rectal Neoplasms
        ("Gastro-intestinal Hemorrhage", {"D006471"}),  # not "Gastro" + "Intestinal Hemorrhage"
    ],
)
def test_condition_text(full: Linker, text: str, expected: set[str]) -> None:
    t = trial([text])
    full.link(t)
    assert ids(t.conditions[0].links) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Methotrexate 2.5 mg tablets", {"D008727", "CHEBI:44185", "DB00563"}),
        ("methotrexate injection", {"D008727", "CHEBI:44185", "DB00563"}),
        ("Sulfasalazine + Methotrexate", {"D012460", "CHEBI:9334", "DB00795", "D008727", "CHEBI:44185", "DB00563"}),
        ("Placebo", {"D010919"}),
        ("Ointment", set()),
    ],
)
def test_drug_links(full: Linker, name: str, expected: set[str]) -> None:
    t = trial(interventions=[Intervention(name, InterventionType.DRUG)])
    full.link(t)
    assert ids(t.interventions[0].links) == expected


# -- registry terms ------------------------------------------------------------------


def test_registry_terms_attach_to_their_conditions(full: Linker) -> None:
    t = trial(
        ["Graft Versus Host Disease", "Leukemia", "Myelodysplastic Syndromes"],
        condition_mesh=[
            MeshTerm("D007938", "Leukemia"),
            MeshTerm("D009190", "Myelodysplastic Syndromes"),
            MeshTerm("D006086", "Graft vs Host Disease"),
            MeshTerm("D013577", "Syndrome"),
        ],
    )
    full.link(t)
    by_name = {c.name: c.links for c in t.conditions}
    assert all(link.method is LinkMethod.REGISTRY for links in by_name.values() for link in links)
    assert ids(by_name["Graft Versus Host Disease"]) == {"D006086"}
    assert ids(by_name["Leukemia"]) == {"D007938"}
    # "Syndrome" shares its word with "Myelodysplastic Syndromes" only
    assert ids(by_name["Myelodysplastic Syndromes"]) == {"D009190", "D013577"}


def test_registry_terms_are_never_dropped(full: Linker) -> None:
    t = trial(["Healthy", "Volunteers"], condition_mesh=[MeshTerm("D012208", "Rhabdomyosarcoma")])
    full.link(t)
    # nothing relates to it: it goes to the first condition
    assert ids(t.conditions[0].links) == {"D012208"}
    assert t.conditions[1].links == []
    # an ID NLM wrote 9-digit-padded is found under its real width
    t2 = trial(["Psoriasis"], condition_mesh=[MeshTerm("D000011565", "Psoriasis")])
    full.link(t2)
    assert ids(t2.conditions[0].links) == {"D011565"}


def test_registry_headings_by_name_and_conditions_without_registry_terms(full: Linker) -> None:
    t = trial(["Psoriasis", "Ankylosing Spondylitis"], condition_mesh_names=["Psoriasis"])
    full.link(t)
    psoriasis, spondylitis = t.conditions
    assert [(link.method, ids([link])) for link in psoriasis.links] == [(LinkMethod.REGISTRY, {"D011565"})]
    assert [(link.method, ids([link])) for link in spondylitis.links] == [(LinkMethod.EXACT, {"D013167"})]


def test_intervention_registry_terms(full: Linker) -> None:
    t = trial(
        interventions=[Intervention("Calcipotriol ointment", InterventionType.DRUG), Intervention("MSC")],
        intervention_mesh=[MeshTerm("C055085", "Calcipotriene")],
    )
    full.link(t)
    calcipotriol = t.interventions[0]
    assert {(link.method, *ids([link])) for link in calcipotriol.links} == {
        (LinkMethod.REGISTRY, "C055085"),
        (LinkMethod.EXACT, "CHEBI:50749"),
        (LinkMethod.EXACT, "DB02300"),
    }
    assert t.interventions[1].links == []


def test_linking_twice_changes_nothing(linked_seeds: dict[str, Trial], full: Linker) -> None:
    for t in linked_seeds.values():
        again = copy.deepcopy(t)
        full.link(again)
        assert again == t


# -- the index and its cache ---------------------------------------------------------


def test_index_cache_is_keyed_by_vocabulary_content(tmp_path: Path) -> None:
    store = ox.Store()
    import_paths(store, [VOCAB_FIXTURES / "desc2024_mini.xml"])
    cache = tmp_path / "cache"
    first = Linker.from_store(store, cache_dir=cache)
    (file,) = cache.glob("linker-index-*.json")
    second = Linker.from_store(store, cache_dir=cache)
    assert second.index.vocabularies == first.index.vocabularies == {"mesh": 5}
    t1, t2 = trial(["Systemic Lupus Erythematosus"]), trial(["Systemic Lupus Erythematosus"])
    first.link(t1)
    second.link(t2)
    assert t1 == t2 and ids(t1.conditions[0].links) == {"D008180"}
    # new vocabulary content: a new key, the old cache file is replaced
    import_paths(store, [VOCAB_FIXTURES / "mesh_terms_mini.tsv"])
    third = Linker.from_store(store, cache_dir=cache)
    (new_file,) = cache.glob("linker-index-*.json")
    assert new_file != file
    assert third.index.vocabularies == {"mesh": 3}


def test_ingest_caches_the_index_in_the_store_and_a_vocabulary_change_invalidates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    cache = store / LINKER_CACHE_DIR
    page = EXAMPLES / "pages" / "000_33f8ef63051a5fa9.txt"  # NCT03392311: conditions Psoriasis, Drug Toxicity

    def ingest_copy(name: str) -> list[str]:
        """Ingest the page under a new file name (a new source graph); the concepts its
        Psoriasis condition is linked to."""
        src = tmp_path / name
        src.write_bytes(page.read_bytes())
        result = runner.invoke(app, ["ingest", "-j", "1", "--store", str(store), str(src)])
        assert result.exit_code == 0, result.output
        query = (
            f"PREFIX tkg: <{T.TKG_NS}> SELECT ?concept WHERE {{ GRAPH ?g {{ ?g tkg:sourceFile ?file . "
            f'?c tkg:name "Psoriasis" . OPTIONAL {{ ?c tkg:linkedConcept ?concept }} }} '
            f'FILTER(STRENDS(?file, "{name}")) }}'
        )
        result = runner.invoke(app, ["sparql", query, "--format", "csv", "--store", str(store)])
        assert result.exit_code == 0, result.output
        rows = result.output.splitlines()
        assert rows[0] == "concept" and len(rows) >= 2, result.output
        return [r for r in rows[1:] if r.strip('"')]

    # MeSH terms table without psoriasis (mesh_terms_mini.tsv lists D001327, D007154, D008180)
    result = runner.invoke(app, ["vocab", "import", str(VOCAB_FIXTURES / "mesh_terms_mini.tsv"), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert ingest_copy("a.txt") == []
    (first,) = cache.glob("linker-index-*.json")

    # unchanged vocabularies: the next ingest reads the cache and never builds the index
    def no_build(*_a: object, **_k: object) -> LinkIndex:
        raise AssertionError("the linker index was rebuilt although the vocabularies did not change")

    with monkeypatch.context() as m:
        m.setattr(LinkIndex, "from_store", no_build)
        ingest_copy("b.txt")

    # a new MeSH import (the descriptor XML names Psoriasis, D011565) invalidates the cache
    result = runner.invoke(app, ["vocab", "import", str(VOCAB_FIXTURES / "desc2024_mini.xml"), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert ingest_copy("c.txt") == ["http://id.nlm.nih.gov/mesh/D011565"]
    (second,) = cache.glob("linker-index-*.json")
    assert second != first


# -- keyword links ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini() -> Linker:
    """A linker over the descriptor XML fixture alone (Psoriasis D011565, Lupus
    Erythematosus, Systemic D008180, Autoimmune Diseases D001327, Immune System Diseases
    D007154 with the entry term "Immunologic Diseases", ...)."""
    store = ox.Store()
    import_paths(store, [VOCAB_FIXTURES / "desc2024_mini.xml"])
    return Linker.from_store(store)


def test_keywords_link_at_trial_level(mini: Linker) -> None:
    keywords = [
        "Systemic Lupus Erythematosus",
        "psoriasis",
        "Immunologic Diseases",
        "Libman-Sacks Disease",
        "stem cells",
    ]
    t = trial(["Psoriasis"], keywords=keywords)
    mini.link(t)
    assert ids(t.conditions[0].links) == {"D011565"}
    # psoriasis is a condition's link already; Libman-Sacks Disease is lupus again (one
    # link per concept); "stem cells" names no disease
    assert [(ids([k]), k.method, k.matched) for k in t.keyword_links] == [
        ({"D008180"}, LinkMethod.EXACT, "Lupus Erythematosus, Systemic"),
        ({"D007154"}, LinkMethod.SYNONYM, "Immunologic Diseases"),
    ]
    # the registry's terms come from the conditions and keywords: no keyword links then
    registry = [MeshTerm("D011565", "Psoriasis")]
    t = trial(["Psoriasis"], keywords=["Systemic Lupus Erythematosus"], condition_mesh=registry)
    mini.link(t)
    assert t.keyword_links == []


def test_keywords_naming_a_disease_attribute_are_not_linked(full: Linker) -> None:
    t = trial(["Psoriasis"], keywords=["Disease Progression", "Chronic Disease", "Crohn's Disease"])
    full.link(t)
    assert [ids([k]) for k in t.keyword_links] == [{"D003424"}]


def test_keyword_links_in_the_graph_and_in_show(mini: Linker) -> None:
    t = trial(["Psoriasis"], keywords=["Systemic Lupus Erythematosus"])
    mini.link(t)
    ts = TrialStore()
    ts.add_new_graphs(trial_quads(t, MappingOptions(ingest_time="2024-01-01T00:00:00Z")))
    trial_node = T.trial_iri(t.nct_id)
    # a keyword link record on the trial; the trial itself gets no tkg:linkedConcept
    (ln,) = [q.object for q in ts.store.quads_for_pattern(trial_node, T.keywordLink, None)]
    assert [q.object for q in ts.store.quads_for_pattern(ln, T.linkTarget, None)] == [T.mesh_iri("D008180")]
    assert list(ts.store.quads_for_pattern(trial_node, T.linkedConcept, None)) == []
    rec = show(ts, t.nct_id)
    assert rec["keyword_links"] == [
        {
            "iri": "http://id.nlm.nih.gov/mesh/D008180",
            "method": "EXACT",
            "vocabulary": "MESH",
            "matched": "Lupus Erythematosus, Systemic",
        }
    ]
    assert [c["links"] for c in rec["conditions"]] == [["http://id.nlm.nih.gov/mesh/D011565"]]
    text = trial_text(rec)
    assert "Keyword links (made from keywords, not from a condition):" in text
    assert "  - Lupus Erythematosus, Systemic  -> mesh:D008180 (EXACT)" in text
    counts = store_stats(ts)
    assert (counts["keyword links"], counts["trials with keyword links"]) == (1, 1)
    assert (counts["conditions"], counts["conditions linked"]) == (1, 1)


def test_normalisation_rules() -> None:
    assert words("Crohn's Disease") == words("Crohn Disease") == words("crohns diseases")
    # whatever stands for the apostrophe
    for apostrophe in ("\u2019", "\u2018", "\u02bc", "\u00b4", " \u0301", "\u2032", "`"):
        assert words(f"Crohn{apostrophe}s Disease") == ("crohn", "disease"), repr(apostrophe)
    assert words("Behc\u0327et\u0301") == ("behcet",)  # a combining accent on a letter is an accent
    assert words("Type1 Diabetes") == words("Type I Diabetes") == words("type 1 diabetes")
    assert words("Leukaemia") == words("Leukemia")
    assert words("Oedema") == words("edema")
    assert words("Tumours") == words("tumor")
    assert words("Graft-vs-Host") == words("graft versus host")
    assert words("RAEM") != words("REM")  # short words keep their spelling
    assert words("Sclerosis") == ("sclerosis",)  # -is is not a plural
    # a hyphen after a combining form (4+ letters ending in -o) joins the word
    assert words("Colo-rectal") == words("Colorectal") and words("Gastro-intestinal") == words("gastrointestinal")
    assert words("Post-stroke") == ("post", "stroke") and words("two-stage") == ("two", "stage")
    assert [w for w, _, _ in located_words("Colo-rectal Cancer")] == list(words("Colo-rectal Cancer"))
    assert unordered_key(words("Spondylitis, Ankylosing")) == unordered_key(words("Ankylosing Spondylitis"))
    assert words("Systemic Sclerosis (SSc)", drop_parentheses=True) == words("Systemic Sclerosis")
