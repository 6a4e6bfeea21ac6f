#!/usr/bin/env python3
"""Build the Carbon module's compact data tables from the shared reference facts.

Run from the repository root, with the reference material checked out beside it
(``../shared``)::

    python3 Sources/Carbon/Data/build_tables.py            # reads ../shared/data/grid
    python3 Sources/Carbon/Data/build_tables.py --shared /work/shared

It writes, next to this script: grid_zones.csv, cloud_regions.csv,
emission_factors.csv, pue.csv, embodied.csv and sources.csv.  Every row keeps its
attribution (source key into sources.csv, year, basis, licence).  The output is
deterministic; rerun it whenever ../shared/data/grid changes and commit the diff.

Only the Python standard library is used.
"""

import argparse
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Source keys used by the `source` columns; sources.csv holds the full citation.
SOURCES = [
    ("ember",
     "Ember, Yearly Electricity Data (emissions_intensity_gco2_per_kwh, latest year per country/aggregate), "
     "via thegreenwebfoundation/co2.js data/output/average-intensities.json @b459b5e5 (2025-08-03); "
     "https://ember-climate.org/data/",
     "CC-BY-4.0",
     "Contains data from Ember (2025), Yearly Electricity Data, licensed CC-BY-4.0 (https://ember-climate.org)"),
    ("electricitymaps",
     "Electricity Maps yearly past carbon intensity (API v3, temporalGranularity=yearly), "
     "via thegreenwebfoundation/co2.js data/output/electricity-maps/yearly_2021..2025.json @df82c78e (2026-02-04)",
     "Electricity Maps data terms (co2.js Apache-2.0)",
     "Contains data from Electricity Maps (https://www.electricitymaps.com), yearly averages via co2.js"),
    ("owid",
     "Our World in Data carbon_intensity_elec (Ember + Energy Institute), "
     "via mlco2/codecarbon codecarbon/data/private_infra/global_energy_mix.json @4f166a55",
     "CC-BY-4.0",
     "Contains data from Our World in Data (Ember; Energy Institute), licensed CC-BY-4.0"),
    ("egrid2016",
     "US EPA eGRID2016 state CO2 output emission rates (lb/MWh x 0.45359237), "
     "via mlco2/codecarbon codecarbon/data/private_infra/2016/usa_emissions.json",
     "US public domain (EPA); CodeCarbon MIT",
     "US EPA eGRID2016 via CodeCarbon"),
    ("google-2023",
     "Google Cloud region-carbon grid carbon intensity, 2023 values (https://cloud.google.com/sustainability/region-carbon), "
     "via mlco2/codecarbon codecarbon/data/cloud/impact.csv @ca104ad9 (PR #610, 2024-07-13, '2023 values')",
     "MIT (CodeCarbon)",
     "Google Cloud region carbon data (2023) via CodeCarbon"),
    ("ccf",
     "Cloud Carbon Footprint Methodology, Appendix V emission factors "
     "(cloud-carbon-footprint microsite/docs/HowItWorks/Methodology.md @00504264, 2023-09)",
     "Apache-2.0",
     "Cloud Carbon Footprint (Thoughtworks), Apache-2.0"),
    ("mlco2-impact",
     "ML CO2 Impact calculator legacy region values (mlco2/impact data/impact.csv @96c7c2ef, 2024-11)",
     "MIT",
     "ML CO2 Impact (Lacoste et al.), MIT"),
    ("emaps-contrib",
     "IPCC AR5 (2014) Annex III lifecycle medians and direct factors as used by "
     "electricitymaps/electricitymaps-contrib config/defaults.yaml @41204e2b",
     "AGPL-3.0/MIT repository; factors are public IPCC values",
     "IPCC AR5 WG3 Annex III (2014) via electricitymaps-contrib"),
]

WORLD_AGGREGATES = {
    "World": "WORLD", "EU": "EU", "Europe": "EUROPE", "Africa": "AFRICA", "Asia": "ASIA",
    "ASEAN": "ASEAN", "G20": "G20", "G7": "G7", "Latin America and Caribbean": "LATAM",
    "Middle East": "MIDDLE-EAST", "North America": "NORTH-AMERICA", "OECD": "OECD",
    "Oceania": "OCEANIA",
}

LIFECYCLE_PRODUCTION = "lifecycle, production-based"
LIFECYCLE_CONSUMPTION = "lifecycle, consumption-based"
DIRECT_PRODUCTION = "direct combustion, production-based"

# Cloud region -> grid zone, from each region's documented location.
# (id, documented location, zone id, why this zone)
CLOUD_REGIONS = [
    ("aws:af-south-1", "Africa (Cape Town)", "ZA", "South Africa has one national zone"),
    ("aws:ap-east-1", "Asia Pacific (Hong Kong)", "HK", "Hong Kong zone"),
    ("aws:ap-northeast-1", "Asia Pacific (Tokyo)", "JP-TK", "Tokyo is in the TEPCO (Tokyo) area"),
    ("aws:ap-northeast-2", "Asia Pacific (Seoul)", "KR", "South Korea has one national zone"),
    ("aws:ap-northeast-3", "Asia Pacific (Osaka)", "JP-KN", "Osaka is in the Kansai area"),
    ("aws:ap-south-1", "Asia Pacific (Mumbai)", "IN-WE", "Maharashtra is on the Western regional grid"),
    ("aws:ap-southeast-1", "Asia Pacific (Singapore)", "SG", "Singapore zone"),
    ("aws:ap-southeast-2", "Asia Pacific (Sydney)", "AU-NSW", "Sydney is in the NSW region of the NEM"),
    ("aws:ca-central-1", "Canada (Central), Montreal", "CA-QC", "Montreal is in Quebec"),
    ("aws:cn-north-1", "China (Beijing)", "CN", "no sub-national Chinese zones in the facts"),
    ("aws:cn-northwest-1", "China (Ningxia)", "CN", "no sub-national Chinese zones in the facts"),
    ("aws:eu-central-1", "Europe (Frankfurt)", "DE", "Germany is one zone"),
    ("aws:eu-north-1", "Europe (Stockholm)", "SE-SE3", "Stockholm is in bidding zone SE3"),
    ("aws:eu-south-1", "Europe (Milan)", "IT-NO", "Lombardy is in the North Italy bidding zone"),
    ("aws:eu-west-1", "Europe (Ireland)", "IE", "Ireland zone"),
    ("aws:eu-west-2", "Europe (London)", "GB", "Great Britain zone"),
    ("aws:eu-west-3", "Europe (Paris)", "FR", "mainland France zone"),
    ("aws:me-south-1", "Middle East (Bahrain)", "BH", "Bahrain zone"),
    ("aws:sa-east-1", "South America (Sao Paulo)", "BR-CS", "Sao Paulo is in the South-East/Centre-West subsystem"),
    ("aws:us-east-1", "US East (N. Virginia)", "US-MIDA-PJM", "Northern Virginia is in PJM"),
    ("aws:us-east-2", "US East (Ohio)", "US-MIDA-PJM", "Ohio utilities are PJM members"),
    ("aws:us-gov-east-1", "AWS GovCloud (US-East)", "US", "state not documented; country average"),
    ("aws:us-gov-west-1", "AWS GovCloud (US-West)", "US", "state not documented; country average"),
    ("aws:us-west-1", "US West (N. California)", "US-CAL-CISO", "Northern California is in CAISO"),
    ("aws:us-west-2", "US West (Oregon), Boardman area", "US-NW-BPAT",
     "eastern Oregon sites are served by BPA-supplied utilities in the BPAT area"),

    ("azure:australiacentral", "Canberra", "AU-NSW", "the ACT is in the NSW region of the NEM"),
    ("azure:australiacentral2", "Canberra", "AU-NSW", "the ACT is in the NSW region of the NEM"),
    ("azure:australiaeast", "New South Wales", "AU-NSW", "NSW region of the NEM"),
    ("azure:australiasoutheast", "Victoria", "AU-VIC", "Victoria region of the NEM"),
    ("azure:brazilsouth", "Sao Paulo State", "BR-CS", "Sao Paulo is in the South-East/Centre-West subsystem"),
    ("azure:brazilsoutheast", "Rio de Janeiro", "BR-CS", "Rio de Janeiro is in the South-East/Centre-West subsystem"),
    ("azure:canadacentral", "Toronto", "CA-ON", "Toronto is in Ontario"),
    ("azure:canadaeast", "Quebec City", "CA-QC", "Quebec City is in Quebec"),
    ("azure:centralindia", "Pune", "IN-WE", "Maharashtra is on the Western regional grid"),
    ("azure:centralus", "Iowa", "US-MIDW-MISO", "Iowa utilities are MISO members"),
    ("azure:eastasia", "Hong Kong", "HK", "Hong Kong zone"),
    ("azure:eastus", "Virginia", "US-MIDA-PJM", "Northern Virginia is in PJM"),
    ("azure:eastus2", "Virginia", "US-MIDA-PJM", "Northern Virginia is in PJM"),
    ("azure:eastus3", "Georgia (Atlanta)", "US-SE-SOCO", "Georgia Power is in the Southern Company area"),
    ("azure:francecentral", "Paris", "FR", "mainland France zone"),
    ("azure:francesouth", "Marseille", "FR", "mainland France zone"),
    ("azure:germanynorth", "Berlin", "DE", "Germany is one zone"),
    ("azure:germanywestcentral", "Frankfurt", "DE", "Germany is one zone"),
    ("azure:japaneast", "Tokyo, Saitama", "JP-TK", "Tokyo and Saitama are in the TEPCO (Tokyo) area"),
    ("azure:japanwest", "Osaka", "JP-KN", "Osaka is in the Kansai area"),
    ("azure:koreacentral", "Seoul", "KR", "South Korea has one national zone"),
    ("azure:koreasouth", "Busan", "KR", "South Korea has one national zone"),
    ("azure:northcentralus", "Illinois (Chicago)", "US-MIDA-PJM", "ComEd (northern Illinois) is in PJM"),
    ("azure:northeurope", "Ireland (Dublin)", "IE", "Ireland zone"),
    ("azure:norwayeast", "Oslo", "NO-NO1", "Oslo is in bidding zone NO1"),
    ("azure:norwaywest", "Stavanger", "NO-NO2", "Stavanger is in bidding zone NO2"),
    ("azure:southafricanorth", "Johannesburg", "ZA", "South Africa has one national zone"),
    ("azure:southafricawest", "Cape Town", "ZA", "South Africa has one national zone"),
    ("azure:southcentralus", "Texas (San Antonio)", "US-TEX-ERCO", "San Antonio is in ERCOT"),
    ("azure:southeastasia", "Singapore", "SG", "Singapore zone"),
    ("azure:southindia", "Chennai", "IN-SO", "Tamil Nadu is on the Southern regional grid"),
    ("azure:swedencentral", "Gavle and Sandviken", "SE-SE3", "Gavle and Sandviken lie in bidding zone SE3"),
    ("azure:switzerlandnorth", "Zurich", "CH", "Switzerland is one zone"),
    ("azure:switzerlandwest", "Geneva", "CH", "Switzerland is one zone"),
    ("azure:uaecentral", "Abu Dhabi", "AE", "United Arab Emirates zone"),
    ("azure:uaenorth", "Dubai", "AE", "United Arab Emirates zone"),
    ("azure:uksouth", "London", "GB", "Great Britain zone"),
    ("azure:ukwest", "Cardiff", "GB", "Great Britain zone"),
    ("azure:westcentralus", "Wyoming (Cheyenne)", "US-NW-WACM", "Cheyenne is in the WAPA Rocky Mountain (WACM) area"),
    ("azure:westeurope", "Netherlands (Amsterdam)", "NL", "Netherlands zone"),
    ("azure:westindia", "Mumbai", "IN-WE", "Maharashtra is on the Western regional grid"),
    ("azure:westus", "California", "US-CAL-CISO", "California region served through CAISO"),
    ("azure:westus2", "Washington (Quincy)", "US-NW-GCPD", "Quincy is served by Grant County PUD"),
    ("azure:westus3", "Arizona (Phoenix)", "US-SW-AZPS",
     "Phoenix is split between APS and SRP; APS, the state's largest utility, is taken"),

    ("gcp:africa-south1", "Johannesburg", "ZA", "South Africa has one national zone"),
    ("gcp:asia-east1", "Changhua County", "TW", "Taiwan zone"),
    ("gcp:asia-east2", "Hong Kong", "HK", "Hong Kong zone"),
    ("gcp:asia-northeast1", "Tokyo", "JP-TK", "Tokyo is in the TEPCO (Tokyo) area"),
    ("gcp:asia-northeast2", "Osaka", "JP-KN", "Osaka is in the Kansai area"),
    ("gcp:asia-northeast3", "Seoul", "KR", "South Korea has one national zone"),
    ("gcp:asia-south1", "Mumbai", "IN-WE", "Maharashtra is on the Western regional grid"),
    ("gcp:asia-south2", "Delhi", "IN-NO", "Delhi is on the Northern regional grid"),
    ("gcp:asia-southeast1", "Jurong West", "SG", "Singapore zone"),
    ("gcp:asia-southeast2", "Jakarta", "ID", "no sub-national Indonesian zones in the facts"),
    ("gcp:australia-southeast1", "Sydney", "AU-NSW", "Sydney is in the NSW region of the NEM"),
    ("gcp:australia-southeast2", "Melbourne", "AU-VIC", "Melbourne is in the Victoria region of the NEM"),
    ("gcp:europe-central2", "Warsaw", "PL", "Poland zone"),
    ("gcp:europe-north1", "Hamina", "FI", "Finland is one zone"),
    ("gcp:europe-southwest1", "Madrid", "ES", "mainland Spain zone"),
    ("gcp:europe-west1", "St. Ghislain", "BE", "Belgium zone"),
    ("gcp:europe-west10", "Berlin", "DE", "Germany is one zone"),
    ("gcp:europe-west12", "Turin", "IT-NO", "Piedmont is in the North Italy bidding zone"),
    ("gcp:europe-west2", "London", "GB", "Great Britain zone"),
    ("gcp:europe-west3", "Frankfurt", "DE", "Germany is one zone"),
    ("gcp:europe-west4", "Eemshaven", "NL", "Netherlands zone"),
    ("gcp:europe-west6", "Zurich", "CH", "Switzerland is one zone"),
    ("gcp:europe-west8", "Milan", "IT-NO", "Lombardy is in the North Italy bidding zone"),
    ("gcp:europe-west9", "Paris", "FR", "mainland France zone"),
    ("gcp:me-central1", "Doha", "QA", "Qatar zone (source file spells the region me-cenrtal1)"),
    ("gcp:me-central2", "Dammam", "SA", "Saudi Arabia zone"),
    ("gcp:me-west1", "Tel Aviv", "IL", "Israel zone"),
    ("gcp:northamerica-northeast1", "Montreal", "CA-QC", "Montreal is in Quebec"),
    ("gcp:northamerica-northeast2", "Toronto", "CA-ON", "Toronto is in Ontario"),
    ("gcp:southamerica-east1", "Sao Paulo", "BR-CS", "Sao Paulo is in the South-East/Centre-West subsystem"),
    ("gcp:southamerica-west1", "Santiago", "CL-SEN", "Santiago is on the national system (SEN)"),
    ("gcp:us-central1", "Council Bluffs, Iowa", "US-MIDW-MISO", "MidAmerican Energy (Iowa) is a MISO member"),
    ("gcp:us-east1", "Moncks Corner, South Carolina", "US-CAR-SC",
     "Berkeley County is supplied by Santee Cooper (SC Public Service Authority)"),
    ("gcp:us-east4", "Ashburn, Virginia", "US-MIDA-PJM", "Northern Virginia is in PJM"),
    ("gcp:us-east5", "Columbus, Ohio", "US-MIDA-PJM", "Ohio utilities are PJM members"),
    ("gcp:us-south1", "Dallas, Texas", "US-TEX-ERCO", "Dallas is in ERCOT"),
    ("gcp:us-west1", "The Dalles, Oregon", "US-NW-BPAT", "Northern Wasco County PUD is in the BPAT area"),
    ("gcp:us-west2", "Los Angeles", "US-CAL-LDWP", "the City of Los Angeles is the LADWP balancing area"),
    ("gcp:us-west3", "Salt Lake City", "US-NW-PACE", "Utah is served by PacifiCorp East"),
    ("gcp:us-west4", "Las Vegas", "US-NW-NEVP", "Las Vegas is served by Nevada Power"),
]

# Region names in the facts that differ from the provider's region id.
REGION_ALIASES = {
    "gcp:me-cenrtal1": "gcp:me-central1",
    "azure:indiacentral": "azure:centralindia",
    "azure:indiasouth": "azure:southindia",
    "azure:indiawest": "azure:westindia",
    "azure:unitedarabemiratesnorth": "azure:uaenorth",
    "azure:unitedarabemiratescentral": "azure:uaecentral",
}
# Rows in the facts that name an Azure geography (or an undocumented name), not a region.
NOT_REGIONS = {
    "azure:australia", "azure:brazil", "azure:canada", "azure:france", "azure:germany",
    "azure:india", "azure:japan", "azure:korea", "azure:koreaeast", "azure:norway",
    "azure:southafrica", "azure:switzerland", "azure:uk", "azure:unitedarabemirates",
}

PUE_ROWS = [
    # site, central, low, high, year, source, why the range
    ("aws", "1.14", "1.04", "1.25", "2025",
     "Amazon sustainability, AWS Cloud page: 2025 global average PUE 1.14 "
     "(https://sustainability.aboutamazon.com/environment/the-cloud/asdi)",
     "low: best AWS site 1.04 (2024 report); high: IDC public-cloud average 1.25 (2024)"),
    ("gcp", "1.10", "1.06", "1.13", "2024",
     "DatacenterDynamics 2024-12: Google fleet average ~1.1, best site 1.06 "
     "(https://www.datacenterdynamics.com/en/news/aws-global-data-centers-achieved-pue-of-115-in-2023/)",
     "low: best Google site 1.06; high: highest per-region TTM PUE 1.13 (asia-southeast1, Cloud Carbon Footprint 2024-03)"),
    ("azure", "1.18", "1.12", "1.25", "2024",
     "DatacenterDynamics 2024-12: Microsoft global facility average 1.18, newest ~1.12 "
     "(https://www.datacenterdynamics.com/en/news/aws-global-data-centers-achieved-pue-of-115-in-2023/)",
     "low: newest Microsoft facilities 1.12; high: IDC public-cloud average 1.25 (2024)"),
    ("onprem", "1.56", "1.55", "1.63", "2024",
     "Uptime Institute 2024 survey average 1.56 at respondents' largest data centre (as described by Statista)",
     "low: lowest Uptime survey average since 2020 (1.55); high: IDC on-premises enterprise average 1.63 (2024)"),
    ("none", "1.00", "1.00", "1.00", "",
     "PUE definition (facility energy / IT energy): no facility overhead",
     "for devices whose energy already includes all overhead (laptops, desktops, wall-plug meters)"),
]

# Embodied carbon per hardware class.
# Band rule: a single published figure gets a x/÷ 2.37 band (90 %): 2.37 (4.2592/1.8) is the spread between the
# two per-area die factors in the facts for one part (Boavizta GPU die 0.042592 kg/mm2 = 4.26 kg/cm2
# vs LLMCarbon H100 TSMC 4 nm 1.8 kg/cm2).
BAND = 4.2592 / 1.8
LIFETIME = ("4", "3", "6",
            "central: median of LCA amortisation defaults (Boavizta 3, Cloud Carbon Footprint 4, Ecodiag 4, "
            "LLMCarbon 5 y); low: Boavizta 3 y; high: Microsoft/Alphabet accounting useful life 6 y")
EMBODIED_ROWS = [
    # class, name, unit, kgCO2e, derived, source
    ("h100", "NVIDIA H100 SXM 80GB card", "per GPU card", 281.3, "yes",
     "Boavizta GPU method applied in shared/data/grid (die ~120 kg + HBM ~137 kg + PCB, casing, "
     "transport, end of life); Boavizta/boaviztapi factors.yml @15878f04 + gpu_specs.csv; AGPL-3.0 data"),
    ("a100", "NVIDIA A100 (per-GPU share of an 8-GPU instance)", "per GPU incl. host share", 318.0, "no",
     "Chien et al., HotCarbon 2023, 'Reducing the Carbon Impact of Generative AI Inference' "
     "(https://preview.methodology.scope3.com/nvidia_a100.md)"),
    ("gpu-generic", "Powerful GPU card (generic)", "per GPU card", 60.0, "no",
     "Ecodiag (CNRS) default for a powerful GPU card, quoted in Boavizta/boaviztapi#65 "
     "(https://githubissues.com/Boavizta/boaviztapi/65)"),
    ("cpu-server", "Generic rack server", "per server", 3660.0, "no",
     "ADEME Base Empreinte generic SERVER factor via Boavizta/boaviztapi factors.yml @15878f04"),
]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv(name, header, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {name}: {len(rows)} rows")


def build_grid_zones(grid):
    rows = []
    ids = set()

    def add(row):
        assert row[0] not in ids, f"duplicate zone id {row[0]}"
        ids.add(row[0])
        rows.append(row)

    source_of = {
        "Ember (via co2.js average-intensities.json)": ("ember", LIFECYCLE_PRODUCTION, "CC-BY-4.0"),
        "Electricity Maps (via co2.js yearly_2025.json)":
            ("electricitymaps", LIFECYCLE_CONSUMPTION, "Electricity Maps data terms"),
        "OWID/Ember (via CodeCarbon global_energy_mix.json)": ("owid", LIFECYCLE_PRODUCTION, "CC-BY-4.0"),
    }
    countries = sorted(read_csv(os.path.join(grid, "country_grid_intensity.csv")), key=lambda r: r["iso2"])
    for r in countries:
        key, basis, licence = source_of[r["recommended_source"]]
        note = ""
        if key != "ember":
            note = "no Ember figure; fallback source"
        add([r["iso2"], r["iso3"], r["country"], "country", "", r["recommended_gco2e_per_kwh"],
             r["recommended_year"], basis, key, licence, note])

    for r in read_csv(os.path.join(grid, "regional_aggregates_ember.csv")):
        add([WORLD_AGGREGATES[r["region"]], "", r["region"], "aggregate", "", r["ember_gco2e_per_kwh"],
             r["year"], LIFECYCLE_PRODUCTION, "ember", "CC-BY-4.0", ""])

    yearly = read_csv(os.path.join(grid, "electricitymaps_zones_yearly_2021_2025.csv"))
    latest = {}
    for r in yearly:
        if r["is_subnational"] != "1":
            continue
        if r["zone_id"] not in latest or int(r["year"]) > int(latest[r["zone_id"]]["year"]):
            latest[r["zone_id"]] = r
    for zid in sorted(latest):
        r = latest[zid]
        add([zid, "", r["zone_name"], "subnational", r["parent_iso2"], r["carbon_intensity_gco2e_per_kwh"],
             r["year"], LIFECYCLE_CONSUMPTION, "electricitymaps", "Electricity Maps data terms", ""])

    # eGRID2016 state rates: old and direct combustion, so only where no balancing-authority zone
    # of the same id exists; ids are ISO 3166-2 (US-CA).  The whole-US row is skipped (country row wins).
    for r in read_csv(os.path.join(grid, "subnational_grid_intensity.csv")):
        if not r["zone_id"].endswith("(state)"):
            continue
        code = r["zone_id"][: -len("(state)")]
        if code == "US-usa" or code in ids:
            continue
        add([code, "", r["zone_name"], "subnational", "US", r["gco2e_per_kwh"], r["year"], DIRECT_PRODUCTION,
             "egrid2016", "US public domain (EPA)",
             "old (2016) direct-combustion state rate; prefer a balancing-authority zone (US-...-...)"])

    write_csv("grid_zones.csv",
              ["id", "alias", "name", "kind", "parent", "gco2e_per_kwh", "year", "basis", "source", "licence", "note"],
              rows)
    return {row[0]: row for row in rows}


def cloud_figures(grid):
    """Return {region id: [fact rows]} for aws/gcp/azure with ids normalised to provider:region."""
    out = {}
    for r in read_csv(os.path.join(grid, "cloud_region_intensity.csv")):
        if r["provider"] not in ("aws", "gcp", "azure"):
            continue
        rid = r["provider"] + ":" + r["region"].lower().replace(" ", "")
        rid = REGION_ALIASES.get(rid, rid)
        if rid in NOT_REGIONS:
            continue
        out.setdefault(rid, []).append(r)
    return out


def published_figure(rows):
    """Pick the figure published for a region: Google's own 2023 value, else the newest third-party one."""
    def dataset_key(r):
        if r["dataset"].startswith("mlco2/codecarbon"):
            return "google-2023"
        if r["dataset"].startswith("cloud-carbon-footprint"):
            return "ccf"
        return "mlco2-impact"

    for wanted in ("google-2023", "ccf", "mlco2-impact"):
        for r in rows:
            if dataset_key(r) != wanted:
                continue
            if wanted == "ccf" and "CFE%-adjusted" in r["basis_note"]:
                continue  # market-style CFE adjustment, not a location-based figure
            src = r["original_source"]
            if wanted == "google-2023":
                return (r["gco2e_per_kwh"], "2023", "lifecycle, location-based, hourly-weighted (Google)", wanted, src)
            if wanted == "ccf":
                if "epa.gov/egrid" in src:
                    return (r["gco2e_per_kwh"], "2020", "direct combustion (eGRID2020 NERC region)", wanted, src)
                if "carbonfootprint.com" in src:
                    return (r["gco2e_per_kwh"], "2021", "not stated (carbonfootprint.com country factor)", wanted, src)
                return (r["gco2e_per_kwh"], "", "direct combustion (EEA CO2 intensity of generation)", wanted, src)
            if src.strip() == "eGRID" or "eGRID" in src:
                return (r["gco2e_per_kwh"], "2016", "direct combustion (eGRID2016)", wanted, src)
            if "2018_8" in src:
                return (r["gco2e_per_kwh"], "2018", "not stated (carbonfootprint.com 2018)", wanted, src)
            return (r["gco2e_per_kwh"], "", "not stated (legacy value)", wanted, src)
    return None


def build_cloud_regions(grid, zones):
    """Map each region to its zone and record which figure wattprint uses, and why.

    Rule, applied to every row: GCP regions use Google's own 2023 figure for the region (location-based,
    hourly-weighted, lifecycle via Electricity Maps) because it is the provider's recent number for the grid
    at the data centre.  For AWS and Azure the facts hold only third-party estimates (Cloud Carbon Footprint:
    eGRID2020, carbonfootprint.com 2021, EEA; ML CO2 Impact: eGRID2016, 2018 factors), mostly direct
    combustion and older, so the zone's current lifecycle figure is used and the estimate is kept for reference.
    """
    facts = cloud_figures(grid)
    mapped = {row[0] for row in CLOUD_REGIONS}
    missing = sorted(set(facts) - mapped)
    assert not missing, f"cloud regions in the facts without a zone mapping: {missing}"
    rows = []
    for rid, location, zone, zone_why in sorted(CLOUD_REGIONS):
        assert zone in zones, f"{rid}: unknown zone {zone}"
        fig = published_figure(facts.get(rid, []))
        zone_row = zones[zone]
        if fig and fig[3] == "google-2023":
            used = "provider"
            why = "Google's own 2023 location-based, hourly-weighted figure for this region's grid; more local than the zone"
        elif fig:
            used = "zone"
            basis = fig[2].split(" (")[0]
            basis = "basis not stated" if basis == "not stated" else basis
            why = (f"published figure is a third-party {fig[1] or 'undated'} estimate ({basis}); "
                   f"zone figure is {zone_row[6]} and lifecycle")
        else:
            used = "zone"
            why = "no published figure for this region in the facts"
        fig = fig or ("", "", "", "", "")
        rows.append([rid, location, zone, zone_why, fig[0], fig[1], fig[2], fig[3], fig[4], used, why])
    write_csv("cloud_regions.csv",
              ["id", "location", "zone", "zone_why", "provider_gco2e_per_kwh", "provider_year", "provider_basis",
               "provider_source", "provider_original_source", "used", "why"],
              rows)


def build_emission_factors(grid):
    rows = []
    for r in read_csv(os.path.join(grid, "emission_factors_by_source.csv")):
        if not r["dataset"].startswith("electricitymaps/"):
            continue
        if "discharge" in r["source_type"]:
            continue  # storage discharge is a grid-mean proxy, not a generation source
        rows.append([r["source_type"], r["basis"], r["gco2e_per_kwh"], r["cited_origin"], "emaps-contrib"])
    rows.sort(key=lambda x: (x[1] != "lifecycle", x[0]))
    write_csv("emission_factors.csv", ["source_type", "basis", "gco2e_per_kwh", "origin", "source"], rows)


def build_pue():
    write_csv("pue.csv", ["site", "pue", "low", "high", "year", "source", "range_why"], PUE_ROWS)


def build_embodied():
    rows = []
    for cls, name, unit, kg, derived, source in EMBODIED_ROWS:
        rows.append([cls, name, unit, f"{kg:g}", f"{kg / BAND:.1f}", f"{kg * BAND:.1f}", derived, source,
                     LIFETIME[0], LIFETIME[1], LIFETIME[2], LIFETIME[3]])
    write_csv("embodied.csv",
              ["class", "name", "unit", "kgco2e", "low", "high", "derived", "source",
               "lifetime_years", "lifetime_low", "lifetime_high", "lifetime_source"],
              rows)


def build_offsets(grid):
    """Credit prices, durability, quality standards and the Oxford principles, row by row with their sources.

    Prices keep the currency they were quoted in (USD unless the row says EUR); nothing is converted. Each price
    row gets the tier wattprint plans with: avoidance, nature-based removal, durable removal; other rows (market
    averages, premiums, the EU ETS benchmark) are kept for reference with tier "reference".
    """
    tiers = {"avoidance": "avoidance", "avoidance-heavy": "avoidance", "nature-based removal": "nature-based removal",
             "durable removal": "durable removal", "durable-ish removal": "durable removal"}
    rows = []
    for r in read_csv(os.path.join(grid, "carbon_credit_prices.csv")):
        text = " ".join([r["metric_note"], r["flags"]])
        currency = "EUR" if "EUR" in text else "USD"
        tier = tiers.get(r["credit_type"], "reference")
        if "premium" in r["category"].lower():
            tier = "reference"
        rows.append([r["category"], r["credit_type"], tier, r["price_low_per_t"], r["price_high_per_t"], r["price_point_per_t"],
                     currency, r["period"], r["source"], r["url"], r["flags"]])
    write_csv("credit_prices.csv", ["category", "credit_type", "tier", "low_per_t", "high_per_t", "point_per_t", "currency",
                                    "period", "source", "url", "flags"], rows)
    rows = [[r["category"], r["storage_medium"], r["indicative_durability"], r["reversal_risk_or_note"], r["source"]]
            for r in read_csv(os.path.join(grid, "carbon_removal_durability.csv"))]
    write_csv("removal_durability.csv", ["category", "storage_medium", "durability", "reversal_risk", "source"], rows)
    rows = [[r["standard"], r["role"], r["key_points"], r["sources"], r["verification_status"]]
            for r in read_csv(os.path.join(grid, "carbon_credit_standards.csv"))]
    write_csv("credit_standards.csv", ["standard", "role", "key_points", "sources", "verification_status"], rows)
    rows = [[r["version"], r["principle_no"], r["principle"], r["source"]]
            for r in read_csv(os.path.join(grid, "oxford_offsetting_principles.csv"))]
    write_csv("oxford_principles.csv", ["version", "number", "principle", "source"], rows)


def build_hourly(grid):
    """The US balancing authorities' 2022 hourly intensity (EIA-930 via the shared file), compacted to one row per
    authority and UTC day with 24 values, rounded to 0.1 g/kWh; a blank hour stays blank."""
    days = {}
    for r in read_csv(os.path.join(grid, "hourly_carbon_intensity_us_ba_2022.csv")):
        day, hour = r["timestamp_utc"][:10], int(r["timestamp_utc"][11:13])
        value = r["avg_ci_gco2e_per_kwh"]
        days.setdefault((r["balancing_authority"], day), [""] * 24)[hour] = f"{float(value):.1f}" if value else ""
    rows = [[ba, day] + values for (ba, day), values in sorted(days.items())]
    write_csv("hourly_us_ba_2022.csv", ["balancing_authority", "date"] + [f"h{h:02d}" for h in range(24)], rows)


def build_sources():
    write_csv("sources.csv", ["key", "citation", "licence", "attribution"], SOURCES)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=os.path.join("..", "shared"),
                        help="path to the shared reference folder (default: ../shared)")
    args = parser.parse_args()
    grid = os.path.join(args.shared, "data", "grid")
    if not os.path.isdir(grid):
        sys.exit(f"error: {grid} not found; run from the repository root with ../shared beside it, "
                 f"or pass --shared PATH")
    build_sources()
    zones = build_grid_zones(grid)
    build_cloud_regions(grid, zones)
    build_emission_factors(grid)
    build_pue()
    build_embodied()
    build_offsets(grid)
    build_hourly(grid)


if __name__ == "__main__":
    main()
