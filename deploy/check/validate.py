#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests offline (make deploy-check).

Every object is checked against the Kubernetes OpenAPI schemas that the pinned PyPI package
kubernetes-validate ships (strict: unknown fields are errors), for each Kubernetes version given.
KEDA ScaledObjects, which are CRDs and not in those schemas, are checked against
keda-scaledobject.schema.json next to this file. Any other kind is an error: nothing passes
unchecked.

usage: validate.py --k8s 1.30 --k8s 1.37 rendered.yaml [more.yaml ...]
exit status 0 when every object is valid, 1 otherwise.
"""

import argparse
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): os.path.join(HERE, "keda-scaledobject.schema.json"),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def check(doc, versions):
    """Returns a list of error strings for one object."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    name = "%s/%s" % (doc.get("kind"), (doc.get("metadata") or {}).get("name"))
    if key in CRD_SCHEMAS:
        with open(CRD_SCHEMAS[key], encoding="utf-8") as f:
            schema = json.load(f)
        v = jsonschema.Draft202012Validator(schema)
        return ["%s: %s at %s" % (name, e.message, "/".join(str(p) for p in e.absolute_path))
                for e in v.iter_errors(doc)]
    errors = []
    for version in versions:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            errors.append("%s (Kubernetes %s): %s at %s" % (name, version, e.message, path))
        except kubernetes_validate.SchemaNotFoundError:
            errors.append("%s: no schema for %s %s in Kubernetes %s (and no CRD schema here)"
                          % (name, key[0], key[1], version))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k8s", action="append", required=True, help="Kubernetes version (repeatable)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    failed = 0
    for path in args.files:
        docs = load(path)
        if not docs:
            print("%s: no objects rendered" % path)
            failed += 1
        kinds = {}
        for doc in docs:
            errs = check(doc, args.k8s)
            for e in errs:
                print("%s: %s" % (path, e))
            failed += bool(errs)
            kinds[doc.get("kind")] = kinds.get(doc.get("kind"), 0) + 1
        summary = ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items()))
        print("%s: %d objects (%s) checked against Kubernetes %s" % (path, len(docs), summary, " and ".join(args.k8s)))
    if failed:
        print("%d invalid object(s)" % failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
