"""A hand-built "maximal" Trial: every field of the model set, with vocabulary
links, a cell therapy, central and site contacts. Used to check that everything
the mapping can emit is declared in the ontology and to build broken trial
graphs for the SHACL negative tests.

The values are consistent with each other (start before completion, minimum age
below maximum age, a phased trial that is interventional, every arm with an
intervention), so the graph conforms with no result at all: each negative test
breaks exactly one thing.
"""

from __future__ import annotations

from kg.enums import (
    AgencyClass,
    AgeUnit,
    Allocation,
    ArmType,
    CellOrigin,
    ContactRole,
    DateType,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    LinkMethod,
    LocationStatus,
    Masking,
    ObservationalModel,
    OfficialRole,
    Phase,
    PrimaryPurpose,
    ReferenceType,
    ResponsiblePartyType,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    WhoMasked,
)
from kg.model import (
    Age,
    Arm,
    CellTherapy,
    Condition,
    Contact,
    DoseSubstance,
    Eligibility,
    Intervention,
    Link,
    Location,
    MeshTerm,
    Official,
    Organization,
    Outcome,
    Reference,
    ResponsibleParty,
    SecondaryId,
    Source,
    Trial,
    TrialDate,
)

NCT = "NCT09900042"
MESH = "http://id.nlm.nih.gov/mesh/"
OBO = "http://purl.obolibrary.org/obo/"


# The placebo arm names the substance of its one dose (the linker's finding, set by hand)
PLACEBO_ARM = "Saline infusions with prednisone 1 mg/kg"
PREDNISONE = DoseSubstance(
    MESH + "D011241", PLACEBO_ARM.index("prednisone"), PLACEBO_ARM.index("prednisone") + len("prednisone")
)


def maximal_trial(*, notes: bool = True) -> Trial:
    """Every Trial field set. ``notes=False`` leaves out the parse notes (which the
    shapes report as an Info result), for a graph with no validation result."""
    return Trial(
        nct_id=NCT,
        source=Source(
            format=SourceFormat.CTGOV_V2_JSON,
            file="NCT09900042.json",
            checksum="ab" * 32,
            last_update=TrialDate("2024-03-05"),
            partial=False,
            notes=["unmapped value 'Phase 5' at $.protocolSection.designModule.phases[1]"] if notes else [],
        ),
        org_study_id="MSC-PSO-01",
        secondary_ids=[SecondaryId("2020-001234-56", type="EUDRACT_NUMBER", domain="EudraCT")],
        nct_id_aliases=["NCT09900041"],
        acronym="MSC-PSO",
        brief_title="Umbilical Cord Mesenchymal Stem Cells for Psoriasis",
        official_title="A Randomized, Double-blind Trial of Umbilical Cord MSCs in Moderate to Severe Psoriasis",
        overall_status=Status.RECRUITING,
        last_known_status=Status.RECRUITING,
        why_stopped="Not stopped: kept to exercise the field",
        status_verified=TrialDate("2024-02"),
        start_date=TrialDate("2020-01-15", DateType.ACTUAL),
        primary_completion_date=TrialDate("2023-06", DateType.ESTIMATED),
        completion_date=TrialDate("2024", DateType.ESTIMATED),
        first_posted=TrialDate("2019-12-01"),
        last_update_posted=TrialDate("2024-03-05"),
        results_first_posted=TrialDate("2024-03-01"),
        sponsor=Organization("Example University Hospital", AgencyClass.OTHER),
        collaborators=[Organization("Example Cell Therapeutics Inc.", AgencyClass.INDUSTRY)],
        responsible_party=ResponsibleParty(
            ResponsiblePartyType.PRINCIPAL_INVESTIGATOR, "Ann Example", "Professor of Dermatology", "Example University"
        ),
        has_dmc=True,
        fda_regulated_drug=False,
        fda_regulated_device=False,
        brief_summary="Whether umbilical cord MSCs improve psoriasis.",
        detailed_description="Participants receive MSC infusions or placebo every four weeks.",
        conditions=[
            Condition(
                "Psoriasis",
                links=[
                    Link(MESH + "D011565", "MESH", LinkMethod.EXACT, matched="Psoriasis", label="Psoriasis"),
                    Link(OBO + "DOID_8893", "DOID", LinkMethod.SYNONYM, matched="psoriasis", label="psoriasis"),
                ],
                verbatim="Psoriasis; Mesenchymal Stem Cells",
                split_uncertain=True,
            ),
            Condition(
                "Mesenchymal Stem Cells",
                links=[Link(OBO + "CL_0000134", "CL", LinkMethod.CURATED, matched="mesenchymal stem cell")],
                verbatim="Psoriasis; Mesenchymal Stem Cells",
                split_uncertain=True,
                is_cell_type=True,
            ),
        ],
        keywords=["psoriasis", "stem cells", "Autoimmune Diseases"],
        keyword_links=[
            Link(MESH + "D001327", "MESH", LinkMethod.EXACT, matched="Autoimmune Diseases", label="Autoimmune Diseases")
        ],
        study_type=StudyType.INTERVENTIONAL,
        phases=[Phase.PHASE1, Phase.PHASE2],
        allocation=Allocation.RANDOMIZED,
        intervention_model=InterventionModel.PARALLEL,
        primary_purpose=PrimaryPurpose.TREATMENT,
        masking=Masking.DOUBLE,
        who_masked=[WhoMasked.PARTICIPANT, WhoMasked.INVESTIGATOR],
        observational_model=ObservationalModel.COHORT,
        time_perspective=TimePerspective.PROSPECTIVE,
        enrollment_count=40,
        enrollment_type=EnrollmentType.ESTIMATED,
        arms=[
            Arm(
                "UC-MSC",
                ArmType.EXPERIMENTAL,
                "MSC infusions of approximately 1-2 million cells/kg",
                ["Biological: UC-MSC infusion"],
            ),
            Arm("Placebo", ArmType.PLACEBO_COMPARATOR, PLACEBO_ARM, ["Drug: Saline"]),
        ],
        interventions=[
            Intervention(
                "UC-MSC infusion",
                InterventionType.BIOLOGICAL,
                "Umbilical cord mesenchymal stem cells, 1 million cells/kg",
                other_names=["hUC-MSC"],
                arm_labels=["UC-MSC"],
                links=[Link(MESH + "D059630", "MESH", LinkMethod.PATTERN, matched="mesenchymal stem cells")],
                cell_therapy=CellTherapy(
                    cell_types=[Link(OBO + "CL_0000134", "CL", LinkMethod.CURATED)],
                    source_tissues=[Link(OBO + "UBERON_0002331", "UBERON", LinkMethod.CURATED)],
                    origin=CellOrigin.ALLOGENEIC,
                    evidence="Umbilical cord mesenchymal stem cells",
                ),
            ),
            Intervention(
                "Saline",
                InterventionType.DRUG,
                "0.9% sodium chloride",
                arm_labels=["Placebo"],
                links=[Link("https://go.drugbank.com/drugs/DB09153", "DRUGBANK", LinkMethod.SYNONYM, matched="saline")],
            ),
        ],
        primary_outcomes=[Outcome("PASI 75 response", "Week 12", "75% improvement of the PASI score")],
        secondary_outcomes=[Outcome("Adverse events", "Week 24")],
        other_outcomes=[Outcome("Serum IL-17", "Week 12", "ELISA")],
        eligibility=Eligibility(
            criteria="Inclusion Criteria:\n- Psoriasis\nExclusion Criteria:\n- Pregnancy",
            inclusion=["Psoriasis"],
            exclusion=["Pregnancy"],
            sex=Sex.ALL,
            gender_based=False,
            min_age=Age(18, AgeUnit.YEARS),
            max_age=Age(65, AgeUnit.YEARS),
            healthy_volunteers=False,
            std_ages=["ADULT", "OLDER_ADULT"],
        ),
        locations=[
            Location(
                "Example University Hospital",
                "Springfield",
                "Illinois",
                "62701",
                "United States",
                LocationStatus.RECRUITING,
                contacts=[Contact("Site Coordinator", ContactRole.CONTACT, "+1 555 0101", "site@example.org")],
            )
        ],
        officials=[Official("Ann Example", OfficialRole.PRINCIPAL_INVESTIGATOR, "Example University")],
        contacts=[Contact("Study Nurse", ContactRole.CONTACT, "+1 555 0100", "nurse@example.org")],
        references=[Reference("31234567", ReferenceType.BACKGROUND, "Example A. MSCs in psoriasis. 2019.")],
        condition_mesh=[MeshTerm("D011565", "Psoriasis")],
        condition_mesh_ancestors=[MeshTerm("D017444", "Skin Diseases, Papulosquamous")],
        intervention_mesh=[MeshTerm("C000000001", "example supplementary concept")],
        intervention_mesh_ancestors=[MeshTerm("D000970", "Antineoplastic Agents")],
        has_results=True,
        condition_mesh_names=["Psoriasis"],
        intervention_mesh_names=["Sodium Chloride"],
        dose_substances={PLACEBO_ARM: {PLACEBO_ARM.index("1 mg/kg"): PREDNISONE}},
    )
