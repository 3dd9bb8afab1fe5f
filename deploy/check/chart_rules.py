#!/usr/bin/env python3
"""Check Chorus's own rules on rendered chart output (make deploy-check), beyond the schemas:

- every container image is pinned by digest (name@sha256:<64 hex>);
- every container of a Deployment or StatefulSet has a readiness and a liveness probe, runs as
  non-root with a read-only root filesystem and no privilege escalation;
- each agent Deployment has its ConfigMap, a PodDisruptionBudget, either fixed replicas or a KEDA
  ScaledObject scaling exactly that Deployment (not both), and a termination grace period longer
  than the drain deadline in its agent config;
- the gateway has a Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler;
- a ServiceAccount is used by every pod; with an AWS values file it carries an IRSA role;
- every key of a rendered agent config is a field of agent.Config / agent.PartitionConfig (read
  from the yaml tags of agent/config.go, so the chart cannot drift from the agent).

usage: chart_rules.py rendered.yaml [more.yaml ...]; exit status 1 on any broken rule.
"""

import os
import re
import sys

import yaml

DIGEST = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def agent_config_keys():
    """The yaml keys of agent.Config and agent.PartitionConfig, from agent/config.go."""
    with open(os.path.join(ROOT, "agent", "config.go"), encoding="utf-8") as f:
        src = f.read()
    keys = {}
    for struct in ("Config", "PartitionConfig"):
        body = re.search(r"type %s struct \{(.*?)\n\}" % struct, src, re.S).group(1)
        keys[struct] = set(re.findall(r'yaml:"([a-z_]+)"', body))
    return keys["Config"], keys["PartitionConfig"]


def seconds(d):
    m = re.fullmatch(r"(\d+)(s|m)", str(d))
    if not m:
        raise ValueError("duration %r: want <n>s or <n>m" % d)
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def check(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errs = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    sas = set(by_kind.get("ServiceAccount", {}))
    for kind in ("Deployment", "StatefulSet"):
        for name, d in by_kind.get(kind, {}).items():
            pod = d["spec"]["template"]["spec"]
            where = "%s/%s" % (kind, name)
            if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
                errs.append("%s: pod securityContext.runAsNonRoot is not true" % where)
            for c in pod["containers"]:
                cw = "%s container %s" % (where, c["name"])
                if not DIGEST.match(c["image"]):
                    errs.append("%s: image %s is not pinned by digest" % (cw, c["image"]))
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in c:
                        errs.append("%s: no %s" % (cw, probe))
                sc = c.get("securityContext", {})
                if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False:
                    errs.append("%s: want readOnlyRootFilesystem true and allowPrivilegeEscalation false" % cw)
            if kind == "Deployment" and pod.get("serviceAccountName") not in sas:
                errs.append("%s: service account %r is not rendered" % (where, pod.get("serviceAccountName")))
    deployments = by_kind.get("Deployment", {})
    agents = {n: d for n, d in deployments.items() if "chorus.dev/partition" in d["metadata"]["labels"]}
    gateways = [n for n in deployments if n.endswith("-gateway")]
    if not agents:
        errs.append("no agent Deployment")
    if len(gateways) != 1:
        errs.append("want one gateway Deployment, got %s" % gateways)
    for g in gateways:
        for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
            if g not in by_kind.get(kind, {}):
                errs.append("gateway %s has no %s" % (g, kind))
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in by_kind.get("ScaledObject", {}).values()}
    for name, d in agents.items():
        cm = by_kind.get("ConfigMap", {}).get(name)
        if cm is None:
            errs.append("agent %s has no ConfigMap" % name)
            continue
        conf = yaml.safe_load(cm["data"]["agent.yaml"])
        top, part_keys = agent_config_keys()
        for k in set(conf) - top:
            errs.append("agent %s: config key %r is not a field of agent.Config" % (name, k))
        for p in conf.get("partitions", []):
            for k in set(p) - part_keys:
                errs.append("agent %s: partition key %r is not a field of agent.PartitionConfig" % (name, k))
        part = d["metadata"]["labels"]["chorus.dev/partition"]
        if [p["name"] for p in conf["partitions"]] != [part]:
            errs.append("agent %s: config serves %s, want [%s]" % (name, [p["name"] for p in conf["partitions"]], part))
        grace = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if grace <= seconds(conf["drain_deadline"]):
            errs.append("agent %s: terminationGracePeriodSeconds %d is not above drain_deadline %s"
                        % (name, grace, conf["drain_deadline"]))
        if name not in by_kind.get("PodDisruptionBudget", {}):
            errs.append("agent %s has no PodDisruptionBudget" % name)
        if "replicas" not in d["spec"] and name not in scaled:
            errs.append("agent %s sets no replicas and has no ScaledObject" % name)
        if name in scaled and "replicas" in d["spec"]:
            errs.append("agent %s: sets replicas although KEDA scales it" % name)
    if "aws" in path:
        for name, sa in by_kind.get("ServiceAccount", {}).items():
            if not sa.get("metadata", {}).get("annotations", {}).get("eks.amazonaws.com/role-arn"):
                errs.append("ServiceAccount %s: no eks.amazonaws.com/role-arn (IRSA) annotation" % name)
    return errs


def check_example():
    """deploy/agent.example.yaml uses only agent config fields."""
    with open(os.path.join(ROOT, "deploy", "agent.example.yaml"), encoding="utf-8") as f:
        conf = yaml.safe_load(f)
    top, part_keys = agent_config_keys()
    errs = ["key %r is not a field of agent.Config" % k for k in set(conf) - top]
    for p in conf.get("partitions", []):
        errs += ["partition key %r is not a field of agent.PartitionConfig" % k for k in set(p) - part_keys]
    return errs


def main():
    bad = 0
    for e in check_example():
        print("deploy/agent.example.yaml: %s" % e)
        bad += 1
    for path in sys.argv[1:]:
        errs = check(path)
        for e in errs:
            print("%s: %s" % (path, e))
        bad += len(errs)
        print("%s: chart rules %s" % (path, "broken" if errs else "hold"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
