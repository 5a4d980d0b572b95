"""Docker Compose cannot run here, so the compose files are checked against what the tested code uses:
the fetch pool the DAGs ask for, the profile settings of the cluster tests (pipeline/ops/cluster.py),
pinned images, Kibana's encryption key, loopback-only ports."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

from pipeline.ops.airflow_cluster import fetch_pool_slots
from pipeline.ops.cluster import PROFILE_ENV, PROFILE_ES_NODES, PROFILE_WORKERS

INFRA = REPO / "infra"


class ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's `!reset` (drop the inherited value) and `!override` tags."""


ComposeLoader.add_constructor("!reset", lambda loader, node: RESET)
ComposeLoader.add_constructor(
    "!override",
    lambda loader, node: (
        loader.construct_mapping(node) if isinstance(node, yaml.MappingNode) else loader.construct_sequence(node)
    ),
)
RESET = object()


def load(name: str) -> dict:
    return yaml.load((INFRA / name).read_text(), Loader=ComposeLoader)


def merge(base: object, override: object) -> object:
    """Compose's merge for what these files use: mappings merge key by key, other values replace."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            if v is RESET:
                out.pop(k, None)
            else:
                out[k] = merge(base.get(k), v) if k in base else v
        return out
    return override


def service(compose: dict, name: str) -> dict:
    svc = compose["services"][name]
    if "extends" in svc:  # only extends within docker-compose.yml is used
        parent = load(svc["extends"]["file"])["services"][svc["extends"]["service"]]
        svc = merge(parent, {k: v for k, v in svc.items() if k != "extends"})
    return svc


@pytest.fixture(scope="module")
def base() -> dict:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def cluster(base) -> dict:
    return merge(base, load("docker-compose.cluster.yml"))


def fetch_pool() -> str:
    common = (REPO / "dags" / "_newsmon_common.py").read_text()
    return re.search(r'^FETCH_POOL = "([^"]+)"', common, re.M).group(1)


def test_init_creates_the_fetch_pool_and_indices(base):
    init = service(base, "airflow-init")
    script = " ".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert "airflow db migrate" in script or init["environment"].get("_AIRFLOW_DB_MIGRATE") == "true"
    assert re.search(rf"airflow pools set {fetch_pool()} \S+", script), script
    assert "newsmon es setup" in script
    assert init["depends_on"]["elasticsearch"]["condition"] == "service_healthy"


def test_dags_start_unpaused_and_images_are_pinned(base, cluster):
    assert base["x-airflow"]["environment"]["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "false"
    for compose in (base, cluster):
        for name in compose["services"]:
            image = service(compose, name).get("image", "")
            assert image and ":" in image and not image.endswith(":latest"), f"{name}: image {image!r} is not pinned"


def test_kibana_has_an_encryption_key(base):
    key = service(base, "kibana")["environment"]["XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY"]
    default = re.fullmatch(r"\$\{KIBANA_ENCRYPTION_KEY:-(.+)\}", key).group(1)
    assert len(default) >= 32  # Kibana refuses shorter keys


def test_ports_are_published_on_loopback_only(base, cluster):
    for compose in (base, cluster):
        for name in compose["services"]:
            for port in service(compose, name).get("ports", []):
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_cluster_variant_matches_the_tested_profile(cluster):
    airflow = {n: service(cluster, n) for n in cluster["services"] if n.startswith("airflow-")}
    for name, svc in airflow.items():
        env = svc["environment"]
        for key, value in PROFILE_ENV.items():
            assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}, the tested profile uses {value!r}"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert {"airflow-worker", "airflow-triggerer", "airflow-scheduler", "redis", "postgres"} <= set(cluster["services"])
    worker = service(cluster, "airflow-worker")
    assert worker["command"] == ["celery", "worker"] and worker["deploy"]["replicas"] == PROFILE_WORKERS
    # the fetch pool holds every worker's task slots, as the tested profile creates it
    init_env = service(cluster, "airflow-init")["environment"]
    slots = fetch_pool_slots(PROFILE_ENV, PROFILE_WORKERS)
    assert slots == PROFILE_WORKERS * int(PROFILE_ENV["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    assert int(init_env["NEWSMON_FETCH_POOL_SLOTS"]) == slots, init_env.get("NEWSMON_FETCH_POOL_SLOTS")

    nodes = {
        n: service(cluster, n)
        for n, s in cluster["services"].items()
        if "elasticsearch/elasticsearch" in s.get("image", service(cluster, n).get("image", ""))
    }
    assert len(nodes) == PROFILE_ES_NODES, sorted(nodes)
    for name, node in nodes.items():
        env = node["environment"]
        assert "discovery.type" not in env, f"{name} would form a one-node cluster of its own"
        assert set(env["discovery.seed_hosts"].split(",")) == set(nodes)
        assert env["node.name"] == name
    urls = airflow["airflow-worker"]["environment"]["NEWSMON_ES_URL"].split(",")
    assert {u.split("//")[1].split(":")[0] for u in urls} == set(nodes)
    volumes = [v for n in nodes.values() for v in n.get("volumes", [])]
    assert len({v.split(":")[0] for v in volumes}) == PROFILE_ES_NODES  # each node its own data volume
