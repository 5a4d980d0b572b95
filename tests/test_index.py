"""The Elasticsearch edge against the real node: setup, versioning, strict mappings, bulk, security."""

from __future__ import annotations

import pytest
from conftest import free_port
from elasticsearch import Elasticsearch

from pipeline.config import load_settings
from pipeline.store import client as ix
from pipeline.store import mappings

pytestmark = pytest.mark.es


@pytest.fixture
def es(es_url):
    client = Elasticsearch(es_url)
    yield client
    client.close()


def test_setup_is_idempotent_and_strict(es, index_prefix):
    first = ix.setup_indices(es, index_prefix)
    assert any("created" in a for a in first)
    assert ix.setup_indices(es, index_prefix) == []  # nothing to do the second time
    for kind, (version, _) in mappings.INDICES.items():
        target = es.indices.get_alias(name=f"{index_prefix}-{kind}")
        assert list(target) == [f"{index_prefix}-{kind}-v{version}"]
    with pytest.raises(Exception) as exc:
        es.index(index=f"{index_prefix}-articles", id="x", document={"title": "t", "not_in_mapping": 1})
    assert "strict" in str(exc.value)


def test_the_robots_cache_syncs_to_disk_in_the_background_and_old_installs_get_that_too(es, index_prefix):
    def durability(kind: str) -> dict[str, str]:
        got = es.indices.get_settings(
            index=f"{index_prefix}-{kind}", name="index.translog.durability", flat_settings=True, include_defaults=True
        )
        return {
            {**s.get("defaults", {}), **s.get("settings", {})}["index.translog.durability"].lower()
            for s in got.values()
        }

    ix.setup_indices(es, index_prefix)
    assert durability("robots") == {"async"} and durability("articles") == {"request"}  # stored work stays synced
    es.indices.put_settings(index=f"{index_prefix}-robots", settings={"index.translog.durability": "request"})
    es.indices.put_settings(index=f"{index_prefix}-items", settings={"index.auto_expand_replicas": "false"})
    actions = ix.setup_indices(es, index_prefix)  # indices made before the settings: brought up to date
    assert durability("robots") == {"async"} and any("translog" in a for a in actions)
    replicas = es.indices.get_settings(index=f"{index_prefix}-items", name="index.auto_expand_replicas")
    assert [s["settings"]["index"]["auto_expand_replicas"] for s in replicas.values()] == ["0-1"]
    assert len(actions) == 2  # the two indices changed, no other
    assert ix.setup_indices(es, index_prefix) == []


def test_new_mapping_version_moves_alias_and_keeps_documents(es, index_prefix, monkeypatch):
    ix.setup_indices(es, index_prefix)
    ix.bulk_write(
        es, f"{index_prefix}-runs", [("r1", {"run_id": "r1", "started": "2026-01-01T00:00:00Z"})], refresh=True
    )
    version, mapping = mappings.INDICES["runs"]
    monkeypatch.setitem(mappings.INDICES, "runs", (version + 1, mapping))
    actions = ix.setup_indices(es, index_prefix)
    assert (
        f"moved alias {index_prefix}-runs: {index_prefix}-runs-v{version} -> {index_prefix}-runs-v{version + 1}"
        in actions
    )
    es.indices.refresh(index=f"{index_prefix}-runs")
    assert es.count(index=f"{index_prefix}-runs")["count"] == 1
    assert list(es.indices.get_alias(name=f"{index_prefix}-runs")) == [f"{index_prefix}-runs-v{version + 1}"]


def test_deterministic_ids_overwrite(es, index_prefix):
    ix.setup_indices(es, index_prefix)
    idx = f"{index_prefix}-runs"
    for _ in range(3):
        res = ix.bulk_write(es, idx, [("same", {"run_id": "same", "started": "2026-01-01T00:00:00Z"})], refresh=True)
        assert res.ok == 1 and not res.failed
    assert es.count(index=idx)["count"] == 1
    created = ix.bulk_write(
        es, idx, [("same", {"run_id": "same"}), ("new", {"run_id": "new"})], op="create", refresh=True
    )
    assert created.created == ["new"] and created.ok == 2


def test_bulk_reports_failures_per_document(es, index_prefix):
    ix.setup_indices(es, index_prefix)
    res = ix.bulk_write(
        es, f"{index_prefix}-runs", [("good", {"run_id": "good"}), ("bad", {"run_id": "bad", "started": "not a date"})]
    )
    assert res.ok == 1
    assert list(res.failed) == ["bad"] and "400" in res.failed["bad"]


class FlakyBulk:
    """Wraps the real client; the first bulks answer `status` for every item (an overloaded or
    restarting node), or fail as a whole request."""

    def __init__(self, es, status: int, bad_calls: int = 1, whole_request: bool = False):
        self.es, self.status, self.bad_calls, self.whole_request = es, status, bad_calls, whole_request
        self.calls = 0

    def __getattr__(self, name):  # everything else (transport, serializers) is the real client's
        return getattr(self.es, name)

    def options(self, **kw):
        return self

    def bulk(self, operations, refresh=False, **kw):
        self.calls += 1
        if self.whole_request and self.calls <= self.bad_calls:
            from elastic_transport import ApiResponseMeta, HttpHeaders
            from elasticsearch import ApiError

            meta = ApiResponseMeta(
                status=self.status, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=None
            )
            raise ApiError(message="unavailable", meta=meta, body={})
        resp = self.es.bulk(operations=operations, refresh=refresh)
        if self.calls <= self.bad_calls:
            for item in resp["items"]:
                (info,) = item.values()
                info["status"] = self.status
                info["error"] = {"type": "es_rejected_execution_exception", "reason": "queue full"}
        return resp


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("whole_request", [False, True])
def test_bulk_retries_429_and_5xx(es, index_prefix, status, whole_request):
    ix.setup_indices(es, index_prefix)
    flaky = FlakyBulk(es, status, bad_calls=2, whole_request=whole_request)
    res = ix.bulk_write(flaky, f"{index_prefix}-runs", [("a", {"run_id": "a"}), ("b", {"run_id": "b"})], backoff_s=0.01)
    assert flaky.calls == 3 and res.ok == 2 and not res.failed


def test_bulk_gives_up_after_retries_and_reports_each_document(es, index_prefix):
    ix.setup_indices(es, index_prefix)
    flaky = FlakyBulk(es, 503, bad_calls=99)
    res = ix.bulk_write(
        flaky, f"{index_prefix}-runs", [("a", {"run_id": "a"}), ("b", {"run_id": "b"})], retries=2, backoff_s=0.01
    )
    assert flaky.calls == 3 and res.ok == 0
    assert set(res.failed) == {"a", "b"} and all("503" in r for r in res.failed.values())


def test_unreachable_es_names_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ix.EsUnavailable) as exc:
        ix.connect(load_settings(es_url=url))
    assert url in str(exc.value)


def test_security_enabled_node(secure_es):
    url, password = secure_es
    with pytest.raises(ix.EsUnavailable, match="401"):
        ix.connect(load_settings(es_url=url))
    es = ix.connect(load_settings(es_url=url, es_user="elastic", es_password=password))
    prefix = "t-secure"
    try:
        ix.setup_indices(es, prefix)
        res = ix.bulk_write(es, f"{prefix}-runs", [("r", {"run_id": "r"})], refresh=True)
        assert res.ok == 1
        assert es.count(index=f"{prefix}-runs")["count"] == 1
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
        es.close()


class CountingBulk:
    """The real client, recording the size of every bulk request body it sends."""

    def __init__(self, es):
        self.es, self.sizes = es, []

    def __getattr__(self, name):
        return getattr(self.es, name)

    def options(self, **kw):
        return self

    def bulk(self, operations, **kw):
        self.sizes.append(sum(len(line) + 1 for line in operations))
        return self.es.bulk(operations=operations, **kw)


def test_twenty_thousand_articles_in_one_call_are_split_not_413(es, index_prefix):
    """More than Elasticsearch's 100 MB request limit in one call: written in chunks, every one indexed."""
    ix.setup_indices(es, index_prefix)
    body = ("The council voted on the budget after a long debate about parks and roads. " * 74)[:5600]
    docs = ((f"a{i}", {"article_id": f"a{i}", "title": f"Story {i}", "body": body}) for i in range(20_000))
    counting = CountingBulk(es)
    res = ix.bulk_write(counting, f"{index_prefix}-articles", docs)
    assert res.ok == 20_000 and not res.failed
    assert sum(counting.sizes) > 100 * 1024 * 1024  # one request would have been refused with HTTP 413
    assert max(counting.sizes) <= ix.CHUNK_BYTES and len(counting.sizes) >= 20_000 / ix.CHUNK_DOCS
    es.indices.refresh(index=f"{index_prefix}-articles")
    assert es.count(index=f"{index_prefix}-articles")["count"] == 20_000
