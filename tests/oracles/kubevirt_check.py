#!/usr/bin/python3
"""Check KubeVirt YAML against KubeVirt's own OpenAPI (Swagger 2.0) schema.

    kubevirt_check.py [--swagger FILE] [--kind KIND] FILE...

Each FILE is read the way kubectl reads YAML (YAML 1.1 types: python3-yaml's
SafeLoader; a duplicate mapping key is an error, as in Go's yaml.v2) and
each of its documents is validated by its kind:

  kubevirt.io/v1 VirtualMachine  against v1.VirtualMachine
  kubevirt.io/v1 KubeVirt        against v1.KubeVirt (permitted-host-devices.yaml
                                 is a merge patch of the KubeVirt CR: every
                                 field it sets must exist there, with its type)
  v1 Secret                      the swagger has no core v1 Secret: checked
                                 with SECRET below (apiVersion, kind, metadata
                                 as the swagger's ObjectMeta, data with base64
                                 values, stringData, type, immutable; nothing else)

What a file must hold follows its name: vm.yaml a VirtualMachine, optionally
after the Secret its cloudInitNoCloud names (and that Secret is named by
it); permitted-host-devices.yaml one KubeVirt. --kind vm|kubevirt-cr says it
for other names.

The swagger becomes JSON Schema (draft 4, which Swagger 2.0 builds on: 1.0
is not an integer): definitions keep their types; $ref points into them and
every $ref must resolve; int-or-string is an integer or a string; Quantity
is what the swagger says (string, integer or number); int32/int64 get
their ranges; "byte" is base64; nullable adds null. Unknown fields fail, as
in KubeVirt's strict decoding: every object with properties gets
additionalProperties: false, and so do the definitions that are Go empty
structs (v1.NUMAGuestMappingPassthrough…); only apimachinery's raw JSON
types (RawExtension, FieldsV1, Patch) stay open.

Prints one line per file ("FILE: ok" or each problem with its path);
exit 0 when every file is valid, 1 when one is not, 2 on usage or a broken
schema.
"""

import argparse
import base64
import binascii
import json
import os
import sys

import jsonschema
import yaml

SWAGGER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "../../../shared/oracles/kubevirt/swagger.json")

# Go types decoded as raw JSON: any content is accepted.
OPEN = {
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Patch",
}

RANGES = {
    "int32": (-2 ** 31, 2 ** 31 - 1),
    "int64": (-2 ** 63, 2 ** 63 - 1),
}

# Kubernetes' key rule for Secret and ConfigMap data (IsConfigMapKey).
DATA_KEY = "^[-._a-zA-Z0-9]{1,253}$"

SECRET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "apiVersion": {"enum": ["v1"]},
        "kind": {"enum": ["Secret"]},
        "metadata": {"$ref": "#/definitions/k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        "data": {
            "type": "object",
            "additionalProperties": False,
            "patternProperties": {DATA_KEY: {"type": "string", "format": "base64"}},
        },
        "stringData": {
            "type": "object",
            "additionalProperties": False,
            "patternProperties": {DATA_KEY: {"type": "string"}},
        },
        "type": {"type": "string"},
        "immutable": {"type": "boolean"},
    },
}


class SchemaError(Exception):
    pass


def convert(node, defs, where):
    """One swagger schema object as strict JSON Schema draft 4."""
    if not isinstance(node, dict):
        raise SchemaError("%s: not a schema object" % where)
    if "$ref" in node:
        ref = node["$ref"]
        prefix = "#/definitions/"
        if not ref.startswith(prefix) or ref[len(prefix):] not in defs:
            raise SchemaError("%s: $ref %s does not resolve" % (where, ref))
        return {"$ref": ref}
    out = {}
    types = node.get("type")
    fmt = node.get("format")
    if fmt == "int-or-string":
        types = ["integer", "string"]
    if types is not None:
        types = list(types) if isinstance(types, list) else [types]
        if node.get("nullable") and "null" not in types:
            types.append("null")
        out["type"] = types[0] if len(types) == 1 else types
    if fmt in RANGES and types == ["integer"]:
        out["minimum"], out["maximum"] = RANGES[fmt]
    if fmt == "byte":
        out["format"] = "base64"
    if "enum" in node:
        out["enum"] = list(node["enum"])
        if node.get("nullable"):
            out["enum"].append(None)
    if "required" in node:
        out["required"] = list(node["required"])
    if "items" in node:
        out["items"] = convert(node["items"], defs, where + "[]")
    if "properties" in node:
        out["properties"] = {k: convert(v, defs, "%s.%s" % (where, k))
                             for k, v in node["properties"].items()}
    if "additionalProperties" in node:
        ap = node["additionalProperties"]
        out["additionalProperties"] = ap if isinstance(ap, bool) else convert(ap, defs, where + "{}")
    elif "properties" in node:
        out["additionalProperties"] = False
    return out


def load_schema(path):
    with open(path) as f:
        swagger = json.load(f)
    if swagger.get("swagger") != "2.0":
        raise SchemaError("%s: not a Swagger 2.0 document" % path)
    defs = swagger["definitions"]
    out = {}
    for name, node in defs.items():
        s = convert(node, defs, name)
        if (name not in OPEN and s.get("type") == "object"
                and "properties" not in s and "additionalProperties" not in s):
            s["additionalProperties"] = False   # a Go empty struct
        out[name] = s
    for need in ("v1.VirtualMachine", "v1.KubeVirt",
                 "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"):
        if need not in out:
            raise SchemaError("%s: no definition %s" % (path, need))
    out["pxeforge.Secret"] = SECRET
    return out


format_checker = jsonschema.FormatChecker()


@format_checker.checks("base64", raises=(binascii.Error, ValueError))
def is_base64(value):
    if not isinstance(value, str):
        return True
    base64.b64decode(value, validate=True)
    return True


class KubectlLoader(yaml.SafeLoader):
    """YAML 1.1 as kubectl reads it: a duplicate key is an error, and a
    timestamp-looking scalar stays a string (JSON has no dates)."""


def construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping key %r already defined" % (key,), key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


KubectlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
KubectlLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)

KINDS = {
    ("kubevirt.io/v1", "VirtualMachine"): "v1.VirtualMachine",
    ("kubevirt.io/v1", "KubeVirt"): "v1.KubeVirt",
    ("v1", "Secret"): "pxeforge.Secret",
}


def path_of(err):
    return "".join("[%d]" % p if isinstance(p, int) else "." + str(p) for p in err.absolute_path) or "."


def validate_doc(doc, defs):
    """Problems of one document, as strings."""
    if not isinstance(doc, dict):
        return ["not a mapping"]
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return ["unknown apiVersion/kind %s/%s" % key]
    schema = {"definitions": defs, "$ref": "#/definitions/" + KINDS[key]}
    v = jsonschema.Draft4Validator(schema, format_checker=format_checker)
    errs = sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return ["%s: %s" % (path_of(e), e.message) for e in errs]


def secret_refs(vm):
    """Names of the Secrets a VirtualMachine's cloudInitNoCloud volumes use."""
    names = []
    vols = (((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []
    for vol in vols:
        nc = (vol or {}).get("cloudInitNoCloud") or {}
        for k in ("secretRef", "networkDataSecretRef"):
            if isinstance(nc.get(k), dict) and "name" in nc[k]:
                names.append(nc[k]["name"])
    return names


def file_problems(docs, expect):
    kinds = [d.get("kind") if isinstance(d, dict) else None for d in docs]
    if expect == "kubevirt-cr":
        return [] if kinds == ["KubeVirt"] else ["expected one KubeVirt document, got %s" % kinds]
    if expect != "vm":
        return []
    if kinds not in (["VirtualMachine"], ["Secret", "VirtualMachine"]):
        return ["expected [Secret,] VirtualMachine, got %s" % kinds]
    refs = set(secret_refs(docs[-1]))
    if kinds[0] == "Secret":
        name = (docs[0].get("metadata") or {}).get("name")
        if name not in refs:
            return ["the Secret %r is not what cloudInitNoCloud names (%s)" % (name, sorted(refs))]
    elif refs:
        return ["cloudInitNoCloud names Secret %s, which the file does not hold" % sorted(refs)]
    return []


def check_file(path, defs, expect):
    try:
        with open(path) as f:
            docs = [d for d in yaml.load_all(f, Loader=KubectlLoader) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        return ["%s" % e]
    if not docs:
        return ["no YAML document"]
    problems = []
    for i, doc in enumerate(docs):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        problems += ["document %d (%s) %s" % (i + 1, kind, p) for p in validate_doc(doc, defs)]
    return problems + file_problems(docs, expect)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swagger", default=SWAGGER)
    ap.add_argument("--kind", choices=["vm", "kubevirt-cr"])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    try:
        defs = load_schema(a.swagger)
        jsonschema.Draft4Validator.check_schema({"definitions": defs})
    except (OSError, ValueError, KeyError, SchemaError, jsonschema.SchemaError) as e:
        print("kubevirt_check: broken schema: %s" % e, file=sys.stderr)
        return 2
    bad = 0
    for path in a.files:
        expect = a.kind or {"vm.yaml": "vm",
                            "permitted-host-devices.yaml": "kubevirt-cr"}.get(os.path.basename(path))
        problems = check_file(path, defs, expect)
        if problems:
            bad = 1
            for p in problems:
                print("%s: %s" % (path, p))
        else:
            print("%s: ok" % path)
    return bad


if __name__ == "__main__":
    sys.exit(main())
