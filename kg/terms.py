"""Every IRI trialkg mints or emits, defined once.

Ontology terms live in the ``tkg:`` namespace and are declared in
``ontology/trialkg.ttl``; ``tests/test_ontology.py`` fails when the mapping emits
a term that is neither declared there nor a known external vocabulary term.
Instance IRIs (trials, arms, organisations, named graphs) are minted here from
source identifiers, never from UUIDs or timestamps.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from enum import StrEnum

from pyoxigraph import NamedNode

# --------------------------------------------------------------------------
# Namespaces

TKG_NS = "https://w3id.org/trialkg/ontology#"
DATA_NS = "https://w3id.org/trialkg/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
PROV_NS = "http://www.w3.org/ns/prov#"
DCTERMS_NS = "http://purl.org/dc/terms/"
SCHEMA_NS = "http://schema.org/"
SH_NS = "http://www.w3.org/ns/shacl#"
OBO_NS = "http://purl.obolibrary.org/obo/"
MESH_NS = "http://id.nlm.nih.gov/mesh/"
DRUGBANK_NS = "https://go.drugbank.com/drugs/"
PUBMED_NS = "https://pubmed.ncbi.nlm.nih.gov/"
CTGOV_NS = "https://clinicaltrials.gov/study/"
MESHV_NS = "http://id.nlm.nih.gov/mesh/vocab#"
OBOINOWL_NS = "http://www.geneontology.org/formats/oboInOwl#"
CHEMBL_NS = "http://rdf.ebi.ac.uk/resource/chembl/molecule/"

PREFIXES: dict[str, str] = {
    "tkg": TKG_NS,
    "rdf": RDF_NS,
    "rdfs": RDFS_NS,
    "xsd": XSD_NS,
    "owl": OWL_NS,
    "skos": SKOS_NS,
    "prov": PROV_NS,
    "dcterms": DCTERMS_NS,
    "schema": SCHEMA_NS,
    "obo": OBO_NS,
    "mesh": MESH_NS,
    "drugbank": DRUGBANK_NS,
    "meshv": MESHV_NS,
    "oboInOwl": OBOINOWL_NS,
    "chembl": CHEMBL_NS,
}

#: Namespaces of external vocabularies whose terms the mapping may emit.
EXTERNAL_NAMESPACES = (RDF_NS, RDFS_NS, XSD_NS, OWL_NS, SKOS_NS, PROV_NS, DCTERMS_NS, SCHEMA_NS, MESHV_NS, OBOINOWL_NS)


def tkg(local: str) -> NamedNode:
    return NamedNode(TKG_NS + local)


# --------------------------------------------------------------------------
# External terms

RDF_TYPE = NamedNode(RDF_NS + "type")
RDFS_LABEL = NamedNode(RDFS_NS + "label")
RDFS_SEE_ALSO = NamedNode(RDFS_NS + "seeAlso")
XSD_STRING = NamedNode(XSD_NS + "string")
XSD_INTEGER = NamedNode(XSD_NS + "integer")
XSD_BOOLEAN = NamedNode(XSD_NS + "boolean")
XSD_DATE = NamedNode(XSD_NS + "date")
XSD_GYEARMONTH = NamedNode(XSD_NS + "gYearMonth")
XSD_GYEAR = NamedNode(XSD_NS + "gYear")
XSD_DATETIME = NamedNode(XSD_NS + "dateTime")
XSD_DURATION = NamedNode(XSD_NS + "duration")
XSD_DECIMAL = NamedNode(XSD_NS + "decimal")
SKOS_CONCEPT = NamedNode(SKOS_NS + "Concept")
SKOS_CONCEPT_SCHEME = NamedNode(SKOS_NS + "ConceptScheme")
SKOS_PREF_LABEL = NamedNode(SKOS_NS + "prefLabel")
SKOS_ALT_LABEL = NamedNode(SKOS_NS + "altLabel")
SKOS_BROADER = NamedNode(SKOS_NS + "broader")
SKOS_NOTATION = NamedNode(SKOS_NS + "notation")
SKOS_IN_SCHEME = NamedNode(SKOS_NS + "inScheme")
SKOS_EXACT_MATCH = NamedNode(SKOS_NS + "exactMatch")
SKOS_DEFINITION = NamedNode(SKOS_NS + "definition")
# Vocabulary graphs (kg.vocab): OBO synonym scopes other than EXACT, and NLM's own MeSH RDF terms.
OBOINOWL_HAS_RELATED_SYNONYM = NamedNode(OBOINOWL_NS + "hasRelatedSynonym")
OBOINOWL_HAS_NARROW_SYNONYM = NamedNode(OBOINOWL_NS + "hasNarrowSynonym")
OBOINOWL_HAS_BROAD_SYNONYM = NamedNode(OBOINOWL_NS + "hasBroadSynonym")
MESHV_PHARMACOLOGICAL_ACTION = NamedNode(MESHV_NS + "pharmacologicalAction")


def meshv(local: str) -> NamedNode:
    """A term of NLM's MeSH RDF vocabulary (``meshv:TopicalDescriptor``, ``meshv:SCR_Chemical``)."""
    return NamedNode(MESHV_NS + local)


PROV_ENTITY = NamedNode(PROV_NS + "Entity")
PROV_GENERATED_AT_TIME = NamedNode(PROV_NS + "generatedAtTime")
PROV_WAS_DERIVED_FROM = NamedNode(PROV_NS + "wasDerivedFrom")
SCHEMA_MEDICAL_TRIAL = NamedNode(SCHEMA_NS + "MedicalTrial")
SCHEMA_TELEPHONE = NamedNode(SCHEMA_NS + "telephone")
SCHEMA_EMAIL = NamedNode(SCHEMA_NS + "email")

# --------------------------------------------------------------------------
# trialkg ontology: classes

ClinicalTrial = tkg("ClinicalTrial")
Arm = tkg("Arm")
Intervention = tkg("Intervention")
CellTherapy = tkg("CellTherapy")
Dose = tkg("Dose")
Condition = tkg("Condition")
Outcome = tkg("Outcome")
Eligibility = tkg("Eligibility")
Criterion = tkg("Criterion")
Location = tkg("Location")
Organization = tkg("Organization")
Official = tkg("Official")
Contact = tkg("Contact")
Reference = tkg("Reference")
ResponsibleParty = tkg("ResponsibleParty")
VocabularyLink = tkg("VocabularyLink")
SourceRecord = tkg("SourceRecord")
SecondaryIdentifier = tkg("SecondaryIdentifier")

# --------------------------------------------------------------------------
# trialkg ontology: properties (grouped by subject class)

# ClinicalTrial
nctId = tkg("nctId")
orgStudyId = tkg("orgStudyId")
secondaryIdentifier = tkg("secondaryIdentifier")
nctIdAlias = tkg("nctIdAlias")
acronym = tkg("acronym")
briefTitle = tkg("briefTitle")
officialTitle = tkg("officialTitle")
overallStatus = tkg("overallStatus")
lastKnownStatus = tkg("lastKnownStatus")
whyStopped = tkg("whyStopped")
statusVerifiedDate = tkg("statusVerifiedDate")
startDate = tkg("startDate")
startDateType = tkg("startDateType")
primaryCompletionDate = tkg("primaryCompletionDate")
primaryCompletionDateType = tkg("primaryCompletionDateType")
completionDate = tkg("completionDate")
completionDateType = tkg("completionDateType")
firstPostedDate = tkg("firstPostedDate")
lastUpdatePostedDate = tkg("lastUpdatePostedDate")
resultsFirstPostedDate = tkg("resultsFirstPostedDate")
leadSponsor = tkg("leadSponsor")
collaborator = tkg("collaborator")
responsibleParty = tkg("responsibleParty")
hasDataMonitoringCommittee = tkg("hasDataMonitoringCommittee")
isFdaRegulatedDrug = tkg("isFdaRegulatedDrug")
isFdaRegulatedDevice = tkg("isFdaRegulatedDevice")
briefSummary = tkg("briefSummary")
detailedDescription = tkg("detailedDescription")
condition = tkg("condition")
keyword = tkg("keyword")
studyType = tkg("studyType")
phase = tkg("phase")
allocation = tkg("allocation")
interventionModel = tkg("interventionModel")
primaryPurpose = tkg("primaryPurpose")
masking = tkg("masking")
whoMasked = tkg("whoMasked")
observationalModel = tkg("observationalModel")
timePerspective = tkg("timePerspective")
enrollmentCount = tkg("enrollmentCount")
enrollmentType = tkg("enrollmentType")
arm = tkg("arm")
intervention = tkg("intervention")
primaryOutcome = tkg("primaryOutcome")
secondaryOutcome = tkg("secondaryOutcome")
otherOutcome = tkg("otherOutcome")
eligibility = tkg("eligibility")
location = tkg("location")
official = tkg("official")
contact = tkg("contact")
reference = tkg("reference")
conditionMesh = tkg("conditionMesh")
conditionMeshAncestor = tkg("conditionMeshAncestor")
interventionMesh = tkg("interventionMesh")
interventionMeshAncestor = tkg("interventionMeshAncestor")
conditionMeshHeading = tkg("conditionMeshHeading")
interventionMeshHeading = tkg("interventionMeshHeading")
hasResults = tkg("hasResults")

# shared by several classes
name = tkg("name")
description = tkg("description")
position = tkg("position")
text = tkg("text")

# SecondaryIdentifier
identifierValue = tkg("identifierValue")
identifierType = tkg("identifierType")
identifierDomain = tkg("identifierDomain")

# Organization
agencyClass = tkg("agencyClass")

# Arm
armType = tkg("armType")
armIntervention = tkg("armIntervention")

# Intervention
interventionType = tkg("interventionType")
otherName = tkg("otherName")
cellTherapy = tkg("cellTherapy")
cellType = tkg("cellType")
cellSource = tkg("cellSource")
cellOrigin = tkg("cellOrigin")
evidenceText = tkg("evidenceText")

# Doses stated in intervention and arm text (kg.dosing)
dose = tkg("dose")
doseValue = tkg("doseValue")
doseMaxValue = tkg("doseMaxValue")
doseUnit = tkg("doseUnit")
doseBasis = tkg("doseBasis")
doseQualifier = tkg("doseQualifier")
doseSubstance = tkg("doseSubstance")
doseOf = tkg("doseOf")
doseText = tkg("doseText")
cellDose = tkg("cellDose")

# Condition and Intervention links
linkedConcept = tkg("linkedConcept")
hasLink = tkg("hasLink")
keywordLink = tkg("keywordLink")
linkTarget = tkg("linkTarget")
linkMethod = tkg("linkMethod")
matchedTerm = tkg("matchedTerm")
vocabulary = tkg("vocabulary")
verbatim = tkg("verbatim")
splitUncertain = tkg("splitUncertain")
isCellType = tkg("isCellType")
nameKey = tkg("nameKey")
conditionNameKey = tkg("conditionNameKey")
interventionNameKey = tkg("interventionNameKey")
#: Trial-level shortcuts, written in trial graphs only (never in kept-apart copies), so that
#: whole-store groupings read them without checking each graph is a trial graph
TRIAL_SHORTCUTS = frozenset({conditionNameKey, interventionNameKey})
labelKey = tkg("labelKey")

# Outcome
measure = tkg("measure")
timeFrame = tkg("timeFrame")

# Eligibility
criteriaText = tkg("criteriaText")
inclusionCriterion = tkg("inclusionCriterion")
exclusionCriterion = tkg("exclusionCriterion")
sex = tkg("sex")
genderBased = tkg("genderBased")
minimumAge = tkg("minimumAge")
maximumAge = tkg("maximumAge")
minimumAgeText = tkg("minimumAgeText")
maximumAgeText = tkg("maximumAgeText")
healthyVolunteers = tkg("healthyVolunteers")
stdAge = tkg("stdAge")

# Location
facility = tkg("facility")
city = tkg("city")
state = tkg("state")
postalCode = tkg("postalCode")
country = tkg("country")
locationStatus = tkg("locationStatus")

# Official and Contact
officialRole = tkg("officialRole")
affiliation = tkg("affiliation")
contactRole = tkg("contactRole")

# ResponsibleParty
responsiblePartyType = tkg("responsiblePartyType")
investigatorTitle = tkg("investigatorTitle")

# Reference
pmid = tkg("pmid")
referenceType = tkg("referenceType")
citation = tkg("citation")

# SourceRecord (provenance of one named graph)
describesTrial = tkg("describesTrial")
sourceFormat = tkg("sourceFormat")
sourceFile = tkg("sourceFile")
checksum = tkg("checksum")
recordLastUpdate = tkg("recordLastUpdate")
recordLastUpdateText = tkg("recordLastUpdateText")
partial = tkg("partial")
toolVersion = tkg("toolVersion")
parseNote = tkg("parseNote")
ingestSettings = tkg("ingestSettings")


# --------------------------------------------------------------------------
# Enumeration members are individuals of a class named after the enumeration:
# tkg:Phase_PHASE2 a tkg:Phase ; skos:notation "PHASE2".


def enum_class(enum: type[StrEnum]) -> NamedNode:
    return tkg(enum.__name__)


def enum_iri(member: StrEnum) -> NamedNode:
    return NamedNode(f"{TKG_NS}{type(member).__name__}_{member.value}")


_ENUM_IRI = re.compile(re.escape(TKG_NS) + r"([A-Za-z]+)_(.+)$")


def enum_value(iri: str) -> tuple[str, str] | None:
    """``(enum class name, value)`` for an enumeration individual's IRI."""
    m = _ENUM_IRI.match(iri)
    return (m.group(1), m.group(2)) if m else None


# --------------------------------------------------------------------------
# Instance IRIs


def lookup_key(text: str) -> str:
    """The lower-cased form of a name or label, written as ``tkg:nameKey`` (trial
    conditions and interventions) and ``tkg:labelKey`` (vocabulary concepts) so that a
    case-insensitive lookup is an index lookup. Python's ``str.lower`` and SPARQL's
    ``LCASE`` (Unicode full lower-case mapping) agree, so queries compute the key of a
    parameter with ``LCASE(STR(?label))``."""
    return text.lower()


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _slug_words(text: str) -> str:
    # the typographic apostrophe is not ASCII: NFKD and the ASCII encoding drop it
    ascii_text = text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower().replace("'", "").replace("`", "")).strip("-")


def slug(text: str) -> str:
    """A stable, readable IRI segment from free text ("Crohn's Disease" -> "crohns-disease");
    over 80 characters, the first 60 and a hash of the whole text."""
    # a long text's first 200 characters decide its first 60 in the slug (each character
    # maps on its own), unless they hold so few letters and digits that they make no 80
    s = _slug_words(text[:200])
    if len(text) > 200 and len(s) <= 80:
        s = _slug_words(text)
    if not s:
        s = "x" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    elif len(s) > 80:
        s = s[:60].rstrip("-") + "-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return s


def trial_iri(nct_id: str) -> NamedNode:
    return NamedNode(f"{DATA_NS}trial/{nct_id}")


def organization_iri(nct_id: str, name: str) -> NamedNode:
    """An organisation as one trial's sources name it: ``.../trial/<NCT>/organization/<slug>``.
    Scoped to the trial, like its arms and conditions, because what a source says of it
    (its agency class) changes over time: a node shared across trials would collect the
    classes of every source. Queries group organisations by the slug (the normalised name)."""
    return NamedNode(f"{DATA_NS}trial/{nct_id}/organization/{slug(name)}")


def graph_iri(nct_id: str, source_format: str, file: str) -> NamedNode:
    """One named graph per trial and source file: re-ingesting the same file
    (same format, same file name) replaces the same graph."""
    tag = hashlib.sha1(file.encode("utf-8")).hexdigest()[:12]
    return NamedNode(f"{DATA_NS}graph/{nct_id}/{source_format}/{tag}")


GRAPH_PREFIX = DATA_NS + "graph/"
VOCAB_GRAPH_PREFIX = DATA_NS + "graph/vocab/"
#: Trial graphs that failed validation at ingest (``ingest --validate``) are kept
#: apart under this prefix followed by the normal graph IRI's path
#: (``.../quarantine/graph/NCT.../ctgov-v2-json/...``), outside every trial graph.
quarantine_prefix = DATA_NS + "quarantine/"


def quarantine_graph_iri(graph: str) -> NamedNode:
    """The quarantine graph for the trial graph ``graph`` (a trial graph IRI)."""
    if not graph.startswith(DATA_NS):
        raise ValueError(f"not a trialkg graph IRI: {graph}")
    return NamedNode(quarantine_prefix + graph[len(DATA_NS) :])


def vocab_graph_iri(vocab: str) -> NamedNode:
    return NamedNode(f"{VOCAB_GRAPH_PREFIX}{vocab.lower()}")


def mesh_iri(mesh_id: str) -> NamedNode:
    return NamedNode(MESH_NS + mesh_id)


def obo_iri(curie: str) -> NamedNode:
    """``CL:0000134`` -> ``http://purl.obolibrary.org/obo/CL_0000134``."""
    return NamedNode(OBO_NS + curie.replace(":", "_", 1))


def drugbank_iri(db_id: str) -> NamedNode:
    return NamedNode(DRUGBANK_NS + db_id)


def chembl_iri(chembl_id: str) -> NamedNode:
    return NamedNode(CHEMBL_NS + chembl_id)


def pubmed_iri(pmid: str) -> NamedNode:
    return NamedNode(f"{PUBMED_NS}{pmid}/")


def ctgov_iri(nct_id: str) -> NamedNode:
    return NamedNode(CTGOV_NS + nct_id)


def curie(iri: str) -> str:
    """A compact form for display: ``mesh:D011565``, ``CL:0000134``, ``CHEBI:50749``."""
    if iri.startswith(MESH_NS):
        return "mesh:" + iri[len(MESH_NS) :]
    if iri.startswith(OBO_NS):
        return iri[len(OBO_NS) :].replace("_", ":", 1)
    if iri.startswith(DRUGBANK_NS):
        return "drugbank:" + iri[len(DRUGBANK_NS) :]
    return iri
