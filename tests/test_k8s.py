"""The scale-out files (deploy/k8s), checked offline: the manifests against Kubernetes' API schemas
(kubernetes-validate, strict); the Helm values against what the compose deployment and
deploy/dagster.yaml run, so the two ways to deploy cannot drift apart. (`helm template` and a
server-side `kubectl --dry-run` cannot run here: no Helm binary or cluster can be installed.)"""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"


def manifests() -> list[dict]:
    return list(yaml.safe_load_all((K8S / "videoagent.yaml").read_text()))


@pytest.mark.parametrize("doc", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_kubernetes(doc):
    kubernetes_validate.validate(doc, "1.32.0", strict=True)


def test_a_misspelt_field_is_caught():
    bad = manifests()[2]
    bad["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.32.0", strict=True)


def test_the_gateway_and_exporter_run_as_compose_runs_them():
    from videoagent_dagster.api.app import create_app
    from videoagent_dagster.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in manifests()}
    gateway = by_name["Deployment", "videoagent-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert " ".join(gateway["command"][:2]) == "videoagent serve" and "--metrics-port" in gateway["command"]
    assert compose["gateway"]["command"].split()[:2] == ["videoagent", "serve"]
    exporter = by_name["Deployment", "videoagent-exporter"]["spec"]["template"]["spec"]["containers"][0]
    assert exporter["command"][:2] == compose["exporter"]["command"].split()[:2] == ["videoagent", "exporter"]
    routes = {r.path for r in create_app().routes}
    assert {gateway["readinessProbe"]["httpGet"]["path"], gateway["livenessProbe"]["httpGet"]["path"]} <= routes
    known = {Settings.variable(f) for f in Settings.model_fields}
    config = by_name["ConfigMap", "videoagent-config"]["data"]
    assert all(k in known for k in config if k.startswith("VIDEOAGENT_")), set(config) - known


def test_the_helm_values_keep_the_instances_limits():
    values = yaml.safe_load((K8S / "dagster-values.yaml").read_text())
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    runs = instance["concurrency"]["runs"]
    coordinator = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert coordinator["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert coordinator["tagConcurrencyLimits"][0]["key"] == runs["tag_concurrency_limits"][0]["key"]
    assert coordinator["tagConcurrencyLimits"][0]["limit"] == runs["tag_concurrency_limits"][0]["limit"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    code = values["dagster-user-deployments"]["deployments"][0]
    assert code["dagsterApiGrpcArgs"][:2] == ["-m", "videoagent_dagster.definitions"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["maxRuntimeSeconds"] == instance["run_monitoring"]["max_runtime_seconds"]
