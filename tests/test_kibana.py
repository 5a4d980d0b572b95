"""Kibana saved objects: every field they use exists in the live mapping with a type that supports the
use, and `newsmon kibana setup` imports them through Kibana's documented import API (a local stub,
tests/kibana_stub.py, since Kibana cannot run here)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

import pytest
from conftest import free_port
from kibana_stub import KibanaStub
from typer.testing import CliRunner

from pipeline.ops.cli import app
from pipeline.ops.kibana import SAVED_OBJECTS, load_saved_objects

# ------------------------------------------------------------------ what the objects use


@dataclass(frozen=True)
class FieldUse:
    view: str  # data view id
    field: str
    use: str  # time | aggregate:<operation> | sort | filter | display
    where: str  # object id


KQL_FIELD = re.compile(r"(?:^|[\s(])([A-Za-z_@][\w.@]*)\s*:")


def _kql_fields(query: str) -> list[str]:
    return KQL_FIELD.findall(query or "")


def field_uses(objects: list[dict]) -> list[FieldUse]:
    """Every field a saved object names, and what it is used for."""
    uses: list[FieldUse] = []
    for obj in objects:
        attrs, oid = obj["attributes"], obj["id"]
        refs = {r["name"]: r["id"] for r in obj.get("references", [])}
        if obj["type"] == "index-pattern":
            uses.append(FieldUse(oid, attrs["timeFieldName"], "time", oid))
            uses += [FieldUse(oid, f, "display", oid) for f in json.loads(attrs.get("fieldFormatMap") or "{}")]
        elif obj["type"] == "search":
            source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
            view = refs[source["indexRefName"]]
            uses += [FieldUse(view, f, "display", oid) for f in attrs["columns"]]
            uses += [FieldUse(view, f, "sort", oid) for f, _ in attrs["sort"]]
            uses += [FieldUse(view, f, "filter", oid) for f in _kql_fields(source["query"]["query"])]
            for flt in source.get("filter", []):
                uses.append(FieldUse(refs[flt["meta"]["indexRefName"]], flt["meta"]["key"], "filter", oid))
        elif obj["type"] == "lens":
            state = attrs["state"]
            for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
                view = refs[f"indexpattern-datasource-layer-{layer_id}"]
                for col in layer["columns"].values():
                    if col.get("sourceField") and col["sourceField"] != "___records___":
                        uses.append(FieldUse(view, col["sourceField"], f"aggregate:{col['operationType']}", oid))
                uses += [FieldUse(view, f, "filter", oid) for f in _kql_fields(state["query"]["query"])]
    return uses


# ------------------------------------------------------------------ what the mapping allows


def flatten_mapping(properties: dict, prefix: str = "", nested: bool = False) -> dict[str, dict]:
    """path -> {type, searchable, nested}, including multi-fields such as speaker_name.keyword."""
    out: dict[str, dict] = {}
    for name, spec in properties.items():
        path = prefix + name
        ftype = spec.get("type", "object")
        inner_nested = nested or ftype == "nested"
        if "properties" in spec:
            out.update(flatten_mapping(spec["properties"], path + ".", inner_nested))
        out[path] = {"type": ftype, "searchable": spec.get("index", True), "nested": nested}
        for sub, subspec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = {"type": subspec["type"], "searchable": subspec.get("index", True), "nested": nested}
    return out


AGGREGATABLE = {"keyword", "long", "integer", "short", "byte", "double", "float", "date", "boolean", "ip"}
NUMERIC = {"long", "integer", "short", "byte", "double", "float"}


def problem(use: FieldUse, fields: dict[str, dict]) -> str | None:
    spec = fields.get(use.field)
    if spec is None:
        return f"{use.where}: field '{use.field}' ({use.use}) is not in the mapping of {use.view}"
    ftype = spec["type"]
    if use.use == "time" and ftype != "date":
        return f"{use.where}: time field '{use.field}' is {ftype}, not date"
    if use.use.startswith("aggregate") or use.use == "sort":
        op = use.use.partition(":")[2]
        if spec["nested"]:
            return f"{use.where}: '{use.field}' is inside a nested field; Kibana cannot aggregate or sort on it"
        if op == "date_histogram" and ftype != "date":
            return f"{use.where}: date histogram on '{use.field}' of type {ftype}"
        if op in {"sum", "average", "median", "min", "max"} and ftype not in NUMERIC:
            return f"{use.where}: {op} of '{use.field}' of type {ftype}"
        if ftype not in AGGREGATABLE:
            return f"{use.where}: '{use.field}' ({ftype}) cannot be used to {use.use} (needs keyword, numeric or date)"
    if use.use == "filter" and (not spec["searchable"] or ftype == "object"):
        return f"{use.where}: '{use.field}' is not searchable"
    return None


def live_fields(es, prefix: str, objects: list[dict]) -> dict[str, dict[str, dict]]:
    """Data view id -> flattened mapping of the index its title names, read from the node."""
    out = {}
    for obj in objects:
        if obj["type"] == "index-pattern":
            mapping = es.indices.get_mapping(index=obj["attributes"]["title"])
            ((_, body),) = mapping.items()
            out[obj["id"]] = flatten_mapping(body["mappings"]["properties"])
    return out


@pytest.fixture
def live_index(es_url, index_prefix):
    from elasticsearch import Elasticsearch

    from pipeline.store.client import setup_indices

    es = Elasticsearch(es_url)
    setup_indices(es, index_prefix)
    yield es
    es.close()


@pytest.mark.es
def test_every_field_a_saved_object_uses_checks_out_against_the_live_mapping(live_index, index_prefix):
    objects = load_saved_objects(index_prefix)
    views = {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    assert views == {f"{index_prefix}-articles", f"{index_prefix}-statements"}
    uses = field_uses(objects)
    fields = live_fields(live_index, index_prefix, objects)
    problems = [p for u in uses if (p := problem(u, fields[u.view]))]
    assert problems == []
    # The extractor sees what the dashboard is made of (so an empty list cannot pass for "no problems").
    seen = {(u.view, u.field, u.use) for u in uses}
    for expected in [
        ("newsmon-articles", "@timestamp", "time"),
        ("newsmon-statements", "first_seen", "time"),
        ("newsmon-articles", "@timestamp", "aggregate:date_histogram"),
        ("newsmon-articles", "topic_labels", "aggregate:terms"),
        ("newsmon-articles", "outlet", "aggregate:terms"),
        ("newsmon-statements", "speaker_name.keyword", "aggregate:terms"),
        ("newsmon-statements", "is_new", "filter"),
        ("newsmon-statements", "first_seen", "sort"),
        ("newsmon-statements", "speaker_name.keyword", "filter"),
    ]:
        assert expected in seen, expected
    assert len(uses) >= 35


@pytest.mark.es
def test_the_field_check_catches_a_text_field_aggregation_and_a_missing_field(live_index, index_prefix):
    objects = load_saved_objects(index_prefix)
    fields = live_fields(live_index, index_prefix, objects)
    broken = copy.deepcopy(objects)
    speakers = next(o for o in broken if o["id"] == "newsmon-top-speakers")
    layer = next(iter(speakers["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()))
    layer["columns"]["speaker"]["sourceField"] = "speaker_name"  # text, not keyword
    stories = next(o for o in broken if o["id"] == "newsmon-immigration-stories")
    source = json.loads(stories["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    source["query"]["query"] = "topic : work_visas"  # no such field
    stories["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"] = json.dumps(source)
    found = [p for u in field_uses(broken) if (p := problem(u, fields[u.view]))]
    assert any("'speaker_name' (text) cannot be used to aggregate" in p for p in found), found
    assert any("field 'topic' (filter) is not in the mapping" in p for p in found), found


def test_saved_objects_hold_together():
    """Each reference names an object in the file; each dashboard panel resolves to a reference;
    the dashboard declares only attributes Kibana's dashboard schema allows."""
    objects = load_saved_objects()
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects) == len(SAVED_OBJECTS.read_text().splitlines())
    for obj in objects:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in ids, (obj["id"], ref)
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    assert set(dashboard["attributes"]) <= {
        "title", "description", "kibanaSavedObjectMeta", "timeRestore", "timeFrom", "timeTo",
        "refreshInterval", "controlGroupInput", "panelsJSON", "optionsJSON", "hits", "version",
    }  # fmt: skip
    refs = {r["name"]: r for r in dashboard["references"]}
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    titles = set()
    for panel in panels:
        ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
        assert ref["type"] == panel["type"]
        titles.add(panel["title"])
    assert titles == {"Stories per day by subtopic", "Top outlets", "Top speakers", "Latest new statements"}
    searches = {o["attributes"]["title"] for o in objects if o["type"] == "search"}
    assert searches == {
        "newsmon: immigration-policy stories",
        "newsmon: new statements by tracked figures",
        "newsmon: statements by one figure",
    }


# ------------------------------------------------------------------ setup against the stub


@pytest.fixture
def kibana():
    stub = KibanaStub()
    url = stub.start()
    yield stub, url
    stub.stop()


def _run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["kibana", "setup", *args], env=env or {})


def test_setup_imports_through_the_documented_api_and_is_idempotent(kibana):
    stub, url = kibana
    first = _run("--url", url)
    assert first.exit_code == 0, first.output
    assert "imported 9 saved objects into Kibana 9.2.4" in first.output
    imports = [r for r in stub.requests if r.path == "/api/saved_objects/_import"]
    assert len(imports) == 1
    req = imports[0]
    assert req.method == "POST" and req.query == {"overwrite": ["true"]}
    assert "kbn-xsrf" in req.headers
    assert req.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="newsmon.ndjson"' in req.body
    stored = {(t, i): o for (_, t, i), o in stub.objects.items()}
    assert stored == {(o["type"], o["id"]): o for o in load_saved_objects()}
    # Again: the same ids are overwritten, nothing is added.
    second = _run("--url", url)
    assert second.exit_code == 0, second.output
    assert len(stub.objects) == 9


def test_setup_into_a_space_and_with_another_index_prefix(kibana):
    stub, url = kibana
    stub.spaces.add("newsroom")
    result = _run("--url", url, "--space", "newsroom", env={"NEWSMON_INDEX_PREFIX": "nm2"})
    assert result.exit_code == 0, result.output
    assert [r.path for r in stub.requests if r.method == "POST"] == ["/s/newsroom/api/saved_objects/_import"]
    titles = {o["attributes"]["title"] for (space, t, _), o in stub.objects.items() if t == "index-pattern"}
    assert titles == {"nm2-articles", "nm2-statements"}
    assert {space for space, _, _ in stub.objects} == {"newsroom"}
    missing = _run("--url", url, "--space", "nowhere")
    assert missing.exit_code == 1
    assert "no space 'nowhere'" in missing.output


def test_setup_sends_credentials_and_names_an_auth_failure(kibana):
    stub, url = kibana
    stub.user, stub.password = "editor", "s3cret"
    wrong = _run("--url", url, env={"NEWSMON_KIBANA_USER": "editor", "NEWSMON_KIBANA_PASSWORD": "nope"})
    assert wrong.exit_code == 1
    assert "rejected the credentials (HTTP 401" in wrong.output and "NEWSMON_KIBANA_USER" in wrong.output
    assert "nope" not in wrong.output
    # Without Kibana credentials the Elasticsearch ones are used (Kibana logins are Elasticsearch users).
    ok = _run("--url", url, env={"NEWSMON_ES_USER": "editor", "NEWSMON_ES_PASSWORD": "s3cret"})
    assert ok.exit_code == 0, ok.output
    assert len(stub.objects) == 9


def test_setup_refuses_an_older_kibana(kibana):
    stub, url = kibana
    stub.version = "8.17.2"
    result = _run("--url", url)
    assert result.exit_code == 1
    assert "version 8.17.2" in result.output and "9.0 or newer" in result.output
    assert not [r for r in stub.requests if r.method == "POST"]


def test_setup_reports_objects_newer_than_kibana_knows(kibana):
    stub, url = kibana
    stub.latest_versions["lens"] = (8, 8, 0)  # a Kibana that predates the lens objects' version
    result = _run("--url", url)
    assert result.exit_code == 1
    assert "older than these saved objects" in result.output and "more recent version" in result.output


def test_setup_reports_each_object_kibana_refused(kibana):
    stub, url = kibana
    stub.importable_types.discard("dashboard")  # as if the dashboard plugin were disabled
    result = _run("--url", url)
    assert result.exit_code == 1
    assert "imported 0 of 9 objects" in result.output
    assert "dashboard 'newsmon-overview'" in result.output and "unsupported_type" in result.output
    assert stub.objects == {}  # Kibana writes nothing when any object fails


def test_setup_names_a_url_where_nothing_listens():
    result = _run("--url", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1
    assert "nothing is listening at http://127.0.0.1:" in result.output
