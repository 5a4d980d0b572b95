"""Beyond one machine: host-grouped batches, per-host pacing shared by worker processes through
Elasticsearch, a three-node Elasticsearch cluster with replicas, and a fault run that kills an
Elasticsearch node and a worker in the middle of a batch.

Workers are real processes (`python -m pipeline.ops.cluster`, what a Celery worker's task runs),
sites are local HTTP servers on 127.0.0.x that log every request's arrival time. The cluster tests
(marker `cluster`) start three nodes through `infra/elasticsearch.sh cluster start`
(ports NEWSMON_TEST_CLUSTER_PORT.. +2, default 9210; state under var/cluster/).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml
from cluster_site import MultiHostSite, article_page, min_gaps, rss
from conftest import ES_SCRIPT, REPO, free_port

from pipeline.config import Settings
from pipeline.fanout import batches_by_host
from pipeline.store.mappings import INDICES

# ------------------------------------------------------------------ helpers


def write_seeds(dest: Path, feeds: list[dict], alerts: list[dict] | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "seeds" / "figures.yaml", dest / "figures.yaml")
    shutil.copy(REPO / "seeds" / "topics.yaml", dest / "topics.yaml")
    (dest / "feeds.yaml").write_text(yaml.safe_dump({"poll_schedule_minutes": 5, "feeds": feeds}))
    (dest / "alerts.yaml").write_text(yaml.safe_dump({"alerts": alerts or []}))
    return dest


def worker_env(es_url: str, prefix: str, seeds: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(
        NEWSMON_ES_URL=es_url,
        NEWSMON_INDEX_PREFIX=prefix,
        NEWSMON_SEEDS_DIR=str(seeds),
        NEWSMON_ALLOW_PRIVATE="127.0.0.0/8",
        NEWSMON_HOST_GATE="elasticsearch",
        NEWSMON_HTTP_TIMEOUT_S="5",
        NEWSMON_HTTP_TOTAL_TIMEOUT_S="10",
        NEWSMON_STATE_DIR=str(seeds.parent / "var"),
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def setup_indices(es_url: str, prefix: str) -> None:
    from elasticsearch import Elasticsearch

    from pipeline.store.client import setup_indices as setup

    es = Elasticsearch(es_url.split(","))
    try:
        setup(es, prefix)
    finally:
        es.close()


def start_worker(env: dict[str, str], kind: str, ids: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.ops.cluster", kind, *ids],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed ({proc.returncode}):\n{err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ fan-out (no services)


def test_batches_by_host_keep_each_host_in_one_batch():
    ids = [f"h{h}-{k}" for h in range(7) for k in range(h + 1)]  # host h has h+1 items: 28 in all
    batches = batches_by_host(ids, lambda i: i.split("-")[0], 10)
    assert sorted(i for b in batches for i in b) == sorted(ids)
    hosts = [{i.split("-")[0] for i in b} for b in batches]
    assert all(not (a & b) for n, a in enumerate(hosts) for b in hosts[n + 1 :]), hosts
    assert len(batches) == 3 and max(map(len, batches)) - min(map(len, batches)) <= 2
    # a host with more than HOST_SPLIT batches' worth is split rather than making one giant batch
    big = batches_by_host([f"x-{k}" for k in range(100)], lambda i: "x", 10)
    assert [len(b) for b in big] == [10] * 10


# ------------------------------------------------------------------ pacing across workers


@pytest.mark.es
def test_two_workers_never_hit_one_host_closer_than_the_delay(tmp_path, es_url, index_prefix):
    """40 feeds on 4 hosts, polled by two worker processes whose batches deliberately share every host
    (the worst case; host-grouped batches would not share one). The gap between two requests to a host,
    measured at the server, is never shorter than the delay; with a per-process gate it is."""
    delay = 0.5
    addresses = [f"127.0.0.{11 + h}" for h in range(4)]
    site = MultiHostSite(addresses)
    try:
        feeds = []
        for n in range(40):
            addr = addresses[n % 4]
            url = site.add(
                addr, f"/feed/{n}.xml", rss([f"{site.base[addr]}/a/{n}.html"], f"Feed {n}"), "application/rss+xml"
            )
            feeds.append({"id": f"f{n}", "name": f"Feed {n}", "url": url, "outlet": f"Outlet {n % 4}"})
        seeds = write_seeds(tmp_path / "seeds", feeds)
        halves = [[f"f{n}" for n in range(40) if n // 4 % 2 == w] for w in range(2)]  # each half: 5 feeds of every host

        def run(gate: str, prefix: str) -> tuple[dict, dict]:
            setup_indices(es_url, prefix)  # as a deployment does once (`newsmon es setup`) before workers start
            site.times.clear()
            site.agents.clear()
            procs = [
                start_worker(
                    worker_env(
                        es_url,
                        prefix,
                        seeds,
                        NEWSMON_HOST_DELAY_S=str(delay),
                        NEWSMON_HOST_GATE=gate,
                        NEWSMON_USER_AGENT=f"newsmon-test-worker-{w}",
                    ),
                    "poll",
                    half,
                )
                for w, half in enumerate(halves)
            ]
            results = [finish(p) for p in procs]
            assert sum(r["polled"] for r in results) == 40 and not any(r["failed"] for r in results), results
            return dict(site.times), dict(site.agents)

        times, agents = run("elasticsearch", index_prefix)
        assert sum(len(t) for t in times.values()) == 40
        # both workers really sent to every host, so the gate had to keep them apart
        assert all(len(set(a)) == 2 for a in agents.values()), agents
        gaps = min_gaps(times)
        print(f"\nshortest gap per host, shared gate: { ({h: round(g, 3) for h, g in gaps.items()}) }")
        assert set(gaps) == set(addresses)
        assert min(gaps.values()) >= delay, f"requests closer than {delay}s: {gaps}"

        # The same run with each worker pacing only itself: the check above would catch it.
        times, _ = run("local", f"{index_prefix}-local")
        print(f"shortest gap per host, one gate per worker: { ({h: round(g, 3) for h, g in min_gaps(times).items()}) }")
        assert min(min_gaps(times).values()) < delay
    finally:
        site.close()


@pytest.mark.es
def test_es_gate_is_exclusive_and_takes_over_expired_leases(es_url, index_prefix):
    from elasticsearch import Elasticsearch

    from pipeline.store.hostgate import EsHostGate

    es = Elasticsearch(es_url)
    try:
        now = [1000.0]
        a = EsHostGate(es, index_prefix, lease_s=30, clock=lambda: now[0], owner="a")
        b = EsHostGate(es, index_prefix, lease_s=30, clock=lambda: now[0], owner="b")
        assert a.try_acquire("site.test", 1.0) == 0.0
        assert b.try_acquire("site.test", 1.0) > now[0]  # busy: ask again later
        a.release("site.test", hold_s=2.0)  # a Retry-After of 2 s on top of the 1 s delay
        now[0] += 2.5
        assert b.try_acquire("site.test", 1.0) == pytest.approx(1003.0)
        now[0] += 0.5
        assert b.try_acquire("site.test", 1.0) == 0.0
        # b dies holding the host: after its lease a takes over, and b's late release changes nothing
        now[0] += 31
        assert a.try_acquire("site.test", 1.0) == 0.0
        b.release("site.test")
        assert EsHostGate(es, index_prefix, clock=lambda: now[0], owner="c").try_acquire("site.test", 0.0) > now[0]
        # a's acquiring write went through but its answer was lost (a client retry): a takes the host again
        a._held.clear()
        assert a.try_acquire("site.test", 0.0) == 0.0
        a.release("site.test")
        assert b.try_acquire("other.test", 0.0) == 0.0 and a.try_acquire("site.test", 0.0) == 0.0
    finally:
        es.close()


# ------------------------------------------------------------------ the three-node cluster


@pytest.fixture(scope="session")
def es_cluster() -> list[str]:
    """URLs of a three-node cluster (infra/elasticsearch.sh cluster start; idempotent)."""
    port = int(os.environ.get("NEWSMON_TEST_CLUSTER_PORT", "9210"))
    env = {**os.environ, "NEWSMON_STATE_DIR": str(REPO / "var" / "cluster")}
    args = ["bash", str(ES_SCRIPT), "cluster", "start", "--nodes", "3", "--port", str(port)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env)
    if proc.returncode != 0:
        pytest.fail(f"could not start the three-node cluster:\n{proc.stdout}\n{proc.stderr}")
    return [f"http://127.0.0.1:{port + i}" for i in range(3)]


def node_pid(port: int) -> int:
    """The pid of this checkout's cluster node on `port`. Its folders are where infra/elasticsearch.sh puts
    them: under var/cluster/es, or, as root, /var/lib/newsmon-es/<sha1 of the checkout's path>; another
    checkout's nodes that once used the same port must not be taken for it."""
    mine = hashlib.sha1(str(REPO).encode()).hexdigest()[:12]
    pidfile = None
    for base in (REPO / "var" / "cluster" / "es", Path("/var/lib/newsmon-es") / mine):
        for f in base.glob("*/instance.env"):
            if f"PORT={port}\n" in f.read_text():
                pidfile = f.parent / "run" / "elasticsearch.pid"
    assert pidfile and pidfile.exists(), f"no pid file for the node on port {port}"
    return int(pidfile.read_text().strip())


def restart_cluster_node(urls: list[str]) -> None:
    port = int(urls[0].rsplit(":", 1)[1])
    env = {**os.environ, "NEWSMON_STATE_DIR": str(REPO / "var" / "cluster")}
    subprocess.run(
        ["bash", str(ES_SCRIPT), "cluster", "start", "--nodes", "3", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )


@pytest.mark.cluster
def test_indices_get_a_replica_on_the_cluster_and_none_on_one_node(es_cluster, es_url, make_settings):
    from elasticsearch import Elasticsearch

    from pipeline.config import load_seeds
    from pipeline.run import open_pipeline

    prefix = f"t-{uuid.uuid4().hex[:10]}"
    seeds = load_seeds(REPO / "seeds")
    for urls, replicas in ((es_cluster, "1"), ([es_url], "0")):
        with open_pipeline(make_settings(es_url=",".join(urls), index_prefix=prefix), seeds) as p:
            try:
                health = p.es.cluster.health(index=f"{prefix}-*", wait_for_status="green", timeout="60s")
                assert health["status"] == "green", health
                got = p.es.indices.get_settings(index=f"{prefix}-*", name="index.number_of_replicas")
                assert len(got) == len(INDICES) and {
                    s["settings"]["index"]["number_of_replicas"] for s in got.values()
                } == {replicas}
            finally:
                p.es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    es = Elasticsearch(es_cluster)
    try:
        assert es.cluster.health()["number_of_nodes"] == 3
    finally:
        es.close()


def news_site(addresses: list[str], per_host: int = 25) -> tuple[MultiHostSite, list[dict], dict[str, str]]:
    """A site per address, each with `per_host` generated articles and a feed listing them; (site, feeds, quotes by URL)."""
    site = MultiHostSite(addresses)
    quotes: dict[str, str] = {}
    feeds = []
    for h, addr in enumerate(addresses):
        links = []
        for k in range(per_host):
            n = h * per_host + k
            url = f"{site.base[addr]}/news/{n}.html"
            page, quote = article_page(url, n)
            site.add(addr, f"/news/{n}.html", page, "text/html; charset=utf-8")
            quotes[url] = quote
            links.append(url)
        feed_url = site.add(addr, "/feed.xml", rss(links, f"Site {h}"), "application/rss+xml")
        feeds.append({"id": f"site{h}", "name": f"Site {h}", "url": feed_url, "outlet": f"Outlet {h}"})
    return site, feeds, quotes


def expected_statements(site: MultiHostSite, quotes: dict[str, str], seeds_dir: Path) -> dict[str, str]:
    """statement key -> text, as the pipeline extracts them from the pages with no fault: the reference the
    fault runs must match (the extractor may find more than the one planted quote per page)."""
    from pipeline.config import load_seeds
    from pipeline.enrich import prepare_article
    from pipeline.fetch import FetchedPage

    seeds = load_seeds(seeds_dir)
    out: dict[str, str] = {}
    for url in quotes:
        addr, path = url.split("/")[2].split(":")[0], "/" + url.split("/", 3)[3]
        page = FetchedPage(url, site.routes[(addr, path)][0], "text/html; charset=utf-8", False)
        article, _ = prepare_article({"feed_id": "x"}, page, None, seeds)
        assert article is not None, url
        out.update({st.key: st.text for st in article.statements})
    return out


def mailed_once(bodies: list[str], texts: list[str]) -> None:
    """Each page's planted quote appears in the emails as often as in the statements that carry it:
    every statement mailed once, none twice."""
    for n in range(200):
        marker = f"number {n} stays on the table"
        in_mail, in_statements = sum(b.count(marker) for b in bodies), sum(t.count(marker) for t in texts)
        assert in_statements >= 1 and in_mail == in_statements, f"page {n}: {in_mail} in mail, {in_statements} stored"


def _count(es, index: str, query: dict | None = None) -> int:
    es.indices.refresh(index=index)
    return int(es.count(index=index, query=query or {"match_all": {}})["count"])


def _shard_node(es, index: str) -> str:
    shards = es.cat.shards(index=index, format="json")
    return next(s["node"] for s in shards if s["prirep"] == "p" and s["state"] == "STARTED")


@pytest.mark.cluster
def test_pipeline_survives_a_dead_node_and_a_killed_worker(tmp_path, es_cluster, make_settings, smtp_server):
    """About 200 items on 8 hosts, processed by two workers on the three-node cluster. Mid-batch one worker
    gets SIGKILL and the node holding the items' primary shard dies; the killed worker's batch is run
    again (as Airflow retries a task whose worker died). Every item ends processed once, every article
    and statement is there once, and each statement is in exactly one alert email."""
    from elasticsearch import Elasticsearch

    from pipeline.config import load_seeds
    from pipeline.fanout import batches_by_host
    from pipeline.run import open_pipeline, queue_alerts, send_pending_alerts

    prefix = f"t-{uuid.uuid4().hex[:10]}"
    site, feeds, quotes = news_site([f"127.0.0.{21 + h}" for h in range(8)])
    es = Elasticsearch(es_cluster, max_retries=3, retry_on_timeout=True)
    killed_port = None
    try:
        rule = {
            "name": "every-statement",
            "kind": "statement",
            "figures": ["*"],
            "recipients": ["desk@newsroom.example"],
        }
        seeds_dir = write_seeds(tmp_path / "seeds", feeds, [rule])
        urls = ",".join(es_cluster)
        env = worker_env(
            urls,
            prefix,
            seeds_dir,
            NEWSMON_HOST_DELAY_S="0.05",
            NEWSMON_HTTP_TOTAL_TIMEOUT_S="3",
            NEWSMON_HTTP_TIMEOUT_S="3",
        )
        setup_indices(urls, prefix)
        items, arts, stmts = f"{prefix}-items", f"{prefix}-articles", f"{prefix}-statements"

        host = {f["id"]: f["url"].split("/")[2].split(":")[0] for f in feeds}
        polls = [start_worker(env, "poll", b) for b in batches_by_host(list(host), host.get, 4)]
        assert sum(finish(p)["new_items"] for p in polls) == 200
        # every index (the host gate's too) has its replica in place before anything is killed
        assert not es.cluster.health(index=f"{prefix}-*", wait_for_status="green", timeout="120s")["timed_out"]
        before = {"pending": _count(es, items, {"term": {"status": "pending"}}), "articles": _count(es, arts)}
        docs = {h["_id"]: h["_source"]["url"] for h in es.search(index=items, size=1000)["hits"]["hits"]}
        batch_a, batch_b = batches_by_host(sorted(docs), lambda i: docs[i].split("/")[2].split(":")[0], 100)
        assert len(batch_a) == len(batch_b) == 100

        worker_a = start_worker(env, "process", batch_a)
        worker_b = start_worker(env, "process", batch_b)
        # SIGKILL worker A once its first chunk of 50 is stored and marked, i.e. in the middle of its batch.
        deadline = time.monotonic() + 240
        done_a = 0
        while time.monotonic() < deadline and worker_a.poll() is None:
            done_a = _count(
                es, items, {"bool": {"filter": [{"ids": {"values": batch_a}}, {"term": {"status": "processed"}}]}}
            )
            if done_a:
                break
            time.sleep(0.2)
        assert worker_a.poll() is None and 0 < done_a < 100, f"worker A was not mid-batch ({done_a} of 100 done)"
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait()
        done_a = _count(
            es, items, {"bool": {"filter": [{"ids": {"values": batch_a}}, {"term": {"status": "processed"}}]}}
        )
        assert 0 < done_a < 100, f"worker A was not mid-batch when killed ({done_a} of 100 done)"
        # ... and kill the Elasticsearch node that holds the item queue's primary shard.
        node = _shard_node(es, items)
        killed_port = int(es_cluster[0].rsplit(":", 1)[1]) + int(node.rsplit("-", 1)[1]) - 1
        os.kill(node_pid(killed_port), signal.SIGKILL)
        mid = {"killed_worker_items_done": done_a, "killed_node": node}

        result_b = finish(worker_b)
        settings = make_settings(es_url=urls, index_prefix=prefix, smtp_port=smtp_server.port)

        def alert() -> tuple[int, int, int]:
            """Queue hits for every stored article (hits already recorded are not recorded again), mail them."""
            with open_pipeline(settings, load_seeds(seeds_dir)) as p:
                p.es.indices.refresh(index=arts)
                ids = [h["_id"] for h in p.es.search(index=arts, size=1000, source=False)["hits"]["hits"]]
                queued = queue_alerts(p, ids)
                sent = send_pending_alerts(p)
                return queued, sent.emails_sent, sent.hits_sent

        first = alert()  # while the dead worker's batch is still half done
        # Airflow retries the task whose worker died: the same batch, on the surviving worker.
        retry = finish(start_worker(env, "process", batch_a))
        assert retry["items"] == 100 - done_a, (retry, done_a)
        second = alert()
        third = alert()  # nothing new: no email

        after = {
            "processed": _count(es, items, {"term": {"status": "processed"}}),
            "not_processed": _count(es, items, {"bool": {"must_not": {"term": {"status": "processed"}}}}),
            "articles": _count(es, arts),
            "statements": _count(es, stmts),
        }
        print(
            f"\ncluster fault run: before {before}; faults {mid}; worker B {result_b['items']} items, "
            f"retry {retry['items']} items; after {after}; alerts (queued, emails, hits) {first} {second} {third}"
        )
        assert before == {"pending": 200, "articles": 0}
        expected = expected_statements(site, quotes, seeds_dir)
        assert after == {"processed": 200, "not_processed": 0, "articles": 200, "statements": len(expected)}
        statements = [h["_source"] for h in es.search(index=stmts, size=5000)["hits"]["hits"]]
        assert sorted(s["key"] for s in statements) == sorted(expected)  # none lost, none doubled
        stored = {h["_source"]["url"] for h in es.search(index=arts, size=1000, source=["url"])["hits"]["hits"]}
        assert stored == set(quotes)
        # The workers recorded each article's hits as they stored it (in the same bulk request), so the passes
        # mostly find them recorded already: what counts is that every statement is mailed, once.
        assert first[2] > 0 and second[2] > 0 and third == (0, 0, 0)
        alertable = [s for s in statements if s["speaker_id"] and not s["repeat_of"] and s["kind"] != "stance"]
        assert first[2] + second[2] == len(alertable) >= 200  # every first sighting by a tracked figure, once
        emails = first[1] + second[1]
        bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.wait_for(emails)]
        # an email carries at most alert_max_hits_per_email hits (issue 9): 150 hits go out in two
        per_email = Settings.model_fields["alert_max_hits_per_email"].default
        assert len(bodies) == emails == sum(-(-hits // per_email) for hits in (first[2], second[2]))
        mailed_once(bodies, [s["text"] for s in statements])
    finally:
        site.close()
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.close()
        if killed_port is not None:
            restart_cluster_node(es_cluster)  # the next test session finds the cluster whole again


def _worker_running_process_task(state: dict) -> str | None:
    """The Celery worker (worker1, worker2) now running a `newsmon_process.process` task, if any: the running
    task instances come from Airflow's Postgres, and the processes named after one sit in its worker's
    process group."""
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(state["postgres"]["port"]), "-U", "airflow", "-d", "airflow", "-tAc",
         "SELECT id FROM task_instance WHERE dag_id = 'newsmon_process' AND task_id = 'process' AND state = 'running'"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    running = {line.strip() for line in out.stdout.splitlines() if line.strip()}
    groups = {int(pgid): name for name, pgid in state["groups"].items() if name.startswith("worker")}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            pgid = os.getpgid(int(proc.name))
        except (OSError, ValueError):
            continue
        # the pool process supervising a task is titled `airflow supervisor: <ti id>`, its task process
        # `airflow worker -- <ti id>` (when setproctitle is there)
        if pgid in groups and any(ti in title for ti in running):
            return groups[pgid]
    return None


@pytest.mark.cluster
@pytest.mark.airflow
def test_celery_profile_survives_a_killed_worker_and_a_dead_node(tmp_path, es_cluster, smtp_server):
    """The DAGs under the distributed profile (Postgres, Redis, CeleryExecutor, two workers, triggerer) over
    200 items on 8 hosts, on the three-node cluster. While process tasks run, one Celery worker is SIGKILLed
    with its task processes and one Elasticsearch node is killed; Airflow notices the dead task (heartbeat
    timeout), retries it on the other worker, and the end state is every item processed once, every article
    and statement once, and each statement in exactly one alert email."""
    from elasticsearch import Elasticsearch

    from pipeline.ops import airflow_cluster as ac

    prefix = f"t-{uuid.uuid4().hex[:10]}"
    site, feeds, quotes = news_site([f"127.0.0.{41 + h}" for h in range(8)])
    rule = {"name": "every-statement", "kind": "statement", "figures": ["*"], "recipients": ["desk@newsroom.example"]}
    seeds_dir = write_seeds(tmp_path / "seeds", feeds, [rule])
    (seeds_dir / "feeds.yaml").write_text(yaml.safe_dump({"poll_schedule_minutes": 1, "feeds": feeds}))
    urls = ",".join(es_cluster)
    setup_indices(urls, prefix)
    home = Path(tempfile.mkdtemp(prefix="newsmon-cluster-"))  # PostgreSQL's user must reach it: not under tmp_path
    home.chmod(0o755)
    env = {
        **worker_env(urls, prefix, seeds_dir, NEWSMON_HOST_DELAY_S="0.2"),
        "NEWSMON_SMTP_HOST": "127.0.0.1",
        "NEWSMON_SMTP_PORT": str(smtp_server.port),
        "NEWSMON_ITEM_BATCH": "50",  # 4 process tasks of two hosts each, stored in one chunk of 50
    }
    del env["PYTHONPATH"]
    es = Elasticsearch(es_cluster, max_retries=3, retry_on_timeout=True)
    items, arts, stmts = f"{prefix}-items", f"{prefix}-articles", f"{prefix}-statements"
    old_env = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("NEWSMON_")})
    killed_port = None
    try:
        state = ac.start_cluster(home, port=free_port(), workers=2, extra_env=env)
        t0 = time.monotonic()
        victim = None
        while time.monotonic() - t0 < 400 and victim is None:
            time.sleep(0.3)
            victim = _worker_running_process_task(state)
        assert victim, f"no process task was seen running within 400 s; see {home}"
        before = {"pending": _count(es, items, {"term": {"status": "pending"}}), "articles": _count(es, arts)}
        ac.kill_component(home, victim)  # SIGKILL the worker and its task processes
        node = _shard_node(es, items)
        killed_port = int(es_cluster[0].rsplit(":", 1)[1]) + int(node.rsplit("-", 1)[1]) - 1
        os.kill(node_pid(killed_port), signal.SIGKILL)

        done = {}
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(2)
            done = {
                "processed": _count(es, items, {"term": {"status": "processed"}}),
                "articles": _count(es, arts),
                "statements": _count(es, stmts),
                "emails": len(smtp_server.messages),
            }
            if (
                done["processed"] == 200
                and done["emails"]
                and not _count(es, f"{prefix}-alerts", {"term": {"status": "pending"}})
            ):
                break
        time.sleep(20)  # anything doubled would arrive now
        tries = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(state["postgres"]["port"]), "-U", "airflow", "-d", "airflow", "-tAc",
             "SELECT map_index, try_number, state FROM task_instance WHERE dag_id = 'newsmon_process' AND task_id = 'process'"],
            capture_output=True, text=True, timeout=30,
        ).stdout.split()  # fmt: skip
        done["process_tasks (map_index|try|state)"] = tries
        print(
            f"\ncelery fault run: killed {victim} and {node}; before {before}; after {done}; {time.monotonic() - t0:.0f} s"
        )
        assert (
            done["processed"] == 200
            and _count(es, items, {"bool": {"must_not": {"term": {"status": "processed"}}}}) == 0
        )
        expected = expected_statements(site, quotes, seeds_dir)
        assert done["articles"] == 200 and done["statements"] == len(expected)
        assert any(int(t.split("|")[1]) > 1 for t in tries), f"the killed worker's task was not retried: {tries}"
        statements = [h["_source"] for h in es.search(index=stmts, size=5000)["hits"]["hits"]]
        assert sorted(s["key"] for s in statements) == sorted(expected)  # none lost, none doubled
        bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.messages]
        mailed_once(bodies, [s["text"] for s in statements])
    finally:
        ac.stop_cluster(home)
        shutil.rmtree(home, ignore_errors=True)
        os.environ.clear()
        os.environ.update(old_env)
        site.close()
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.close()
        if killed_port is not None:
            restart_cluster_node(es_cluster)
