"""A small stand-in for Kibana's HTTP API, written from Kibana's documentation, for `newsmon kibana setup`.

Kibana cannot run on these machines. This stub answers the three endpoints setup uses and checks
each request the way the documented API does:

- `GET /api/status` answers `version.number`;
- `GET /api/spaces/space/<id>` answers 404 for an unknown space;
- `POST [/s/<space>]/api/saved_objects/_import[?overwrite=true|createNewCopies=true]`
  (https://www.elastic.co/docs/api/doc/kibana/operation/operation-post-saved-objects-import):
  the `kbn-xsrf` header is required; the body is multipart/form-data with the NDJSON in the part
  named `file`, whose file name must end in `.ndjson`; `overwrite` and `createNewCopies` exclude
  each other. Every object needs `type`, `id` and `attributes`; a type Kibana does not import is an
  `unsupported_type` error; a reference to an object that is neither in the file nor in the space
  is a `missing_references` error; an object that exists already is a `conflict` unless
  `overwrite=true`. When there is any error nothing is written and `success` is false. An object
  whose `typeMigrationVersion` is newer than this Kibana knows is refused with "belongs to a more
  recent version of Kibana".
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IMPORTABLE_TYPES = {"index-pattern", "search", "lens", "dashboard", "visualization", "map", "tag", "query"}
# Versions are compared as tuples; anything above these is "a more recent version of Kibana".
LATEST_TYPE_VERSIONS = {
    "index-pattern": (8, 0, 0),
    "search": (10, 6, 0),
    "lens": (10, 1, 0),
    "dashboard": (10, 4, 0),
    "visualization": (8, 5, 0),
}


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class KibanaStub:
    version: str = "9.2.4"
    user: str | None = None
    password: str | None = None
    spaces: set[str] = field(default_factory=lambda: {"default"})
    requests: list[Request] = field(default_factory=list)
    # (space, type, id) -> object as imported
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    latest_versions: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict(LATEST_TYPE_VERSIONS))
    importable_types: set[str] = field(default_factory=lambda: set(IMPORTABLE_TYPES))

    def start(self) -> str:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                stub.requests.append(Request(method, parts.path, parse_qs(parts.query), headers, body))
                status, answer = stub.answer(method, parts.path, parse_qs(parts.query), headers, body)
                self._reply(status, answer)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ the API

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if self.user is not None and not self._authorised(headers):
            return 401, {"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"}
        space = "default"
        if path.startswith("/s/"):
            _, _, space, rest = path.split("/", 3)
            path = "/" + rest
            if space not in self.spaces:
                return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        if method == "GET" and path == "/api/status":
            return 200, {
                "name": "kibana-stub",
                "version": {"number": self.version, "build_snapshot": False},
                "status": {"overall": {"level": "available"}},
            }
        if method == "GET" and path.startswith("/api/spaces/space/"):
            wanted = path.rsplit("/", 1)[1]
            if wanted not in self.spaces:
                return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
            return 200, {"id": wanted, "name": wanted}
        if method == "POST" and path == "/api/saved_objects/_import":
            return self._import(space, query, headers, body)
        return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return user == self.user and password == self.password

    def _import(self, space: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        def bad(message: str) -> tuple[int, Any]:
            return 400, {"statusCode": 400, "error": "Bad Request", "message": message}

        if "kbn-xsrf" not in headers:
            return bad("Request must contain a kbn-xsrf header.")
        overwrite = query.get("overwrite", ["false"])[0] == "true"
        if overwrite and query.get("createNewCopies", ["false"])[0] == "true":
            return bad("[request query]: cannot use [overwrite] with [createNewCopies]")
        ctype = headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return 415, {"statusCode": 415, "error": "Unsupported Media Type", "message": "Unsupported Media Type"}
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        )
        file_part = next(
            (p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"), None
        )
        if file_part is None:
            return bad("[request body.file]: expected value of type [Stream] but got [undefined]")
        filename = file_part.get_filename() or ""
        if not filename.lower().endswith(".ndjson"):
            return bad(f"Invalid file extension {('.' + filename.rsplit('.', 1)[-1]) if '.' in filename else ''}")
        try:
            objects = [json.loads(line) for line in file_part.get_payload(decode=True).decode().splitlines() if line]
        except ValueError as exc:
            return bad(f"Unexpected token in JSON: {exc}")
        for obj in objects:
            if not {"type", "id", "attributes"} <= obj.keys():
                return bad(f"object is missing type, id or attributes: {str(obj)[:80]}")
            known = self.latest_versions.get(obj["type"])
            declared = obj.get("typeMigrationVersion")
            if known and declared and _version(declared) > known:
                return bad(
                    f'Document "{obj["id"]}" belongs to a more recent version of Kibana [{declared}] when the '
                    f"last known version is [{'.'.join(map(str, known))}]."
                )
        in_file = {(o["type"], o["id"]) for o in objects}
        errors: list[dict[str, Any]] = []
        for obj in objects:
            meta = {"type": obj["type"], "id": obj["id"], "title": obj["attributes"].get("title"), "meta": {}}
            if obj["type"] not in self.importable_types:
                errors.append({**meta, "error": {"type": "unsupported_type"}})
                continue
            missing = [
                {"type": r["type"], "id": r["id"]}
                for r in obj.get("references", [])
                if (r["type"], r["id"]) not in in_file and (space, r["type"], r["id"]) not in self.objects
            ]
            if missing:
                errors.append({**meta, "error": {"type": "missing_references", "references": missing}})
            if (space, obj["type"], obj["id"]) in self.objects and not overwrite:
                errors.append({**meta, "error": {"type": "conflict"}})
        if errors:
            return 200, {"success": False, "successCount": 0, "errors": errors}
        results = []
        for obj in objects:
            existed = (space, obj["type"], obj["id"]) in self.objects
            self.objects[(space, obj["type"], obj["id"])] = obj
            result = {"type": obj["type"], "id": obj["id"], "meta": {"title": obj["attributes"].get("title")}}
            if existed:
                result["overwrite"] = True
            results.append(result)
        return 200, {"success": True, "successCount": len(objects), "successResults": results, "errors": []}
