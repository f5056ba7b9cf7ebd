"""The HTTP side: a WSGI app that routes, validates, authenticates, injects faults and records calls.

Pipeline per request: route (own regexes) -> parse JSON -> validate against the OpenAPI description
(violations recorded) -> faults -> auth -> 422 if invalid -> handler (under the world lock) ->
response headers (rate limit, request id) -> response validation (each shape of answer once per process: the
keys and types of its body and what its strings must match, see ``_shape``) -> Call recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import spec
from .auth import Identity, authenticate, authorize
from .endpoints import HANDLERS, Ctx, Reply
from .endpoints.actions import BLOB_PREFIX, blob_signature
from .faults import Fault, reply_for
from .responses import error_json
from .state import ApiError, RateBucket
from .world import World

JSON_TYPE = "application/json; charset=utf-8"
DOCS = "https://docs.github.com/rest"
# Responses already found valid, by operation, status and body shape (shared by every fake in the process):
# validating one takes milliseconds, and most responses repeat a shape seen before (see _shape).
_VALID_SHAPES: set[tuple[str, int, object]] = set()
_VALID_SHAPES_LOCK = threading.Lock()
_ENUM_LIKE = re.compile(r"[a-z][a-z_]{0,15}")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Call:
    method: str
    path: str
    operation_id: str | None
    status: int
    auth: str  # app | installation | anonymous
    installation_id: int | None
    body: Any
    query: dict[str, str]
    response: Any = None
    fault: str | None = None
    request_id: str = ""
    duration: float = 0.0
    started_at: float = 0.0  # time.monotonic() when the request arrived
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


class FakeServer:
    """WSGI application plus the recordings the tests inspect."""

    def __init__(self, world: World, *, validate_responses: bool = True) -> None:
        self.world = world
        self.validate_responses = validate_responses
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.response_violations: list[str] = []
        self.faults: list[Fault] = []
        self._record_lock = threading.Lock()
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> str:
        self._httpd = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_QuietHandler)
        self._httpd.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fakegithub-http", daemon=True
        )
        self._thread.start()
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path.startswith(BLOB_PREFIX):
            return self._blob(request)
        started = time.monotonic()
        request_id = "-".join(secrets.token_hex(2).upper() for _ in range(2)) + ":" + secrets.token_hex(4).upper()
        method = request.method.upper()
        path = request.path
        query = {k: v for k, v in request.args.items()}
        raw = request.get_data(cache=True)
        call = Call(
            method,
            path,
            None,
            0,
            "anonymous",
            None,
            None,
            query,
            request_id=request_id,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            started_at=started,
        )
        reply, identity, validate = self._dispatch(request, call, method, path, query, raw)
        response = self._respond(reply, identity, request_id, call)
        if validate and self.validate_responses and call.operation_id is not None:
            self._check_response(call, method, path, query, raw, response)
        call.duration = time.monotonic() - started
        with self._record_lock:
            self.calls.append(call)
        return response

    def _blob(self, request: Request) -> Response:
        """An artifact's zip at the signed URL actions/download-artifact redirected to (GitHub's blob storage: no
        Authorization needed, the signature is the credential; no ETag, as depup must not need one)."""
        name, _, rest = request.path[len(BLOB_PREFIX) :].rpartition("/")
        artifact_id = rest.removesuffix(".zip")
        with self.world.lock:
            repo = self.world.find_repo(*name.split("/", 1)) if "/" in name else None
            found = self.world.find_artifact(repo, int(artifact_id)) if repo and artifact_id.isdigit() else None
            if found is None or not hmac.compare_digest(
                request.args.get("sig", ""), blob_signature(repo.full_name if repo else "", int(artifact_id))
            ):
                return Response(b"<Error><Code>AuthenticationFailed</Code></Error>", status=403)
            data = found[1].data
        with self._record_lock:
            self.calls.append(Call("GET", request.path, None, 200, "anonymous", None, None, {}))
        return Response(data, status=200, content_type="application/zip")

    def _dispatch(
        self, request: Request, call: Call, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[Reply, Identity | None, bool]:
        """The reply, who asked, and whether the reply is the handler's (so worth validating)."""
        matched = spec.match(method, path)
        if matched is None:
            self._violation(f"{method} {path}: no such operation in GitHub's REST description")
            return Reply(404, error_json(404, "Not Found")), None, False
        route, params = matched
        call.operation_id = route.operation_id
        try:
            call.body = json.loads(raw) if raw else None
        except ValueError:
            self._violation(f"{route.operation_id}: body is not valid JSON")
            return Reply(400, {"message": "Problems parsing JSON", "documentation_url": DOCS}), None, False
        errors = spec.request_errors(route, params, path, query, raw, request.content_type)
        for error in errors:
            self._violation(f"{route.operation_id} ({method} {path}): {error}")
        identity: Identity | None = None
        auth_error: ApiError | None = None
        with self.world.lock:
            try:
                identity = authenticate(self.world, request.headers.get("Authorization"))
                call.auth, call.installation_id = identity.kind, identity.installation_id
            except ApiError as exc:
                auth_error = exc
        forced = self._fault(route.operation_id, method, path, call)
        if forced is not None:
            return forced, identity, False
        if auth_error is not None or identity is None:
            refused = auth_error or ApiError(401, "Bad credentials")
            return Reply(refused.status, error_json(refused.status, refused.message)), None, False
        with self.world.lock:
            if route.operation_id != "rate-limit/get":  # GitHub does not count /rate_limit
                self._bucket(identity).used += 1
            has_repo = "owner" in params and "repo" in params
            repo = self.world.find_repo(params["owner"], params["repo"]) if has_repo else None
            try:
                authorize(self.world, identity, route.operation_id, repo, has_repo)
            except ApiError as exc:
                return Reply(exc.status, error_json(exc.status, exc.message)), identity, False
            if errors:
                message = "Invalid request.\n\n" + "\n".join(e.splitlines()[-1].strip() for e in errors)
                return Reply(422, {"message": message, "documentation_url": DOCS, "status": "422"}), identity, False
            handler = HANDLERS.get(route.operation_id)
            if handler is None:
                self._violation(f"{route.operation_id}: described but not implemented by the fake")
                return Reply(501, error_json(501, "Not implemented by the fake")), identity, False
            ctx = Ctx(self.world, route.operation_id, params, query, call.body, repo, identity, request.base_url)
            try:
                return handler(ctx), identity, True
            except ApiError as exc:
                return (
                    Reply(exc.status, error_json(exc.status, exc.message, exc.errors), dict(exc.headers)),
                    identity,
                    True,
                )

    def _fault(self, operation_id: str, method: str, path: str, call: Call) -> Reply | None:
        """The reply of the first armed fault this call hits (a "slow" one sleeps here, then lets it pass)."""
        for fault in list(self.faults):
            with self.world.lock:
                hit = fault.take(operation_id, method, path)
            if hit:
                forced = reply_for(fault)
                if forced is not None:
                    call.fault = fault.kind
                    return Reply(forced.status, forced.body, forced.headers)
        return None

    def _bucket(self, identity: Identity | None) -> RateBucket:
        if identity is not None and identity.token is not None:
            return self.world.bucket(f"installation:{identity.token.installation.id}", 5000)
        if identity is not None and identity.app is not None:
            return self.world.bucket(f"app:{identity.app.id}", 5000)
        return self.world.bucket("anonymous", 60)

    def _respond(self, reply: Reply, identity: Identity | None, request_id: str, call: Call) -> Response:
        with self.world.lock:
            bucket = self._bucket(identity)
            headers = {
                "x-ratelimit-limit": str(bucket.limit),
                "x-ratelimit-remaining": str(bucket.remaining),
                "x-ratelimit-used": str(bucket.used),
                "x-ratelimit-reset": str(bucket.reset),
                "x-ratelimit-resource": bucket.resource,
            }
        headers.update(
            {
                "x-github-request-id": request_id,
                "x-github-api-version-selected": "2022-11-28",
                "x-github-media-type": "github.v3; format=json",
                "server": "github.com",
            }
        )
        headers.update(reply.headers)
        call.status = reply.status
        if reply.status == 204 or reply.body is None:
            return Response(b"", status=reply.status, headers=headers)
        data = json.dumps(reply.body, ensure_ascii=False).encode()
        call.response = reply.body
        if call.method == "GET" and reply.status == 200:
            # Conditional requests, as GitHub: an ETag on every answer, 304 when If-None-Match still matches
            # (for the operations whose description declares a 304).
            etag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest() + '"'
            headers["etag"] = etag
            asked = {k.lower(): v for k, v in call.headers.items()}.get("if-none-match")
            if asked == etag and self._declares(call.method, call.path, "304"):
                call.status = 304
                return Response(b"", status=304, headers=headers)
        return Response(data, status=reply.status, headers=headers, content_type=JSON_TYPE)

    def _declares(self, method: str, path: str, status: str) -> bool:
        matched = spec.match(method, path)
        return matched is not None and status in spec.load_spec().declared_statuses(matched[0])

    def _check_response(
        self, call: Call, method: str, path: str, query: dict[str, str], raw: bytes, response: Response
    ) -> None:
        matched = spec.match(method, path)
        if matched is None:
            return
        route, params = matched
        declared = spec.load_spec().declared_statuses(route)
        status = str(response.status_code)
        if status not in declared and "default" not in declared:
            if response.status_code < 400:
                self._response_violation(f"{route.operation_id}: answered {status}, not a status it declares")
            return
        body = response.get_data()
        try:
            signature = (route.operation_id, response.status_code, _shape(json.loads(body)) if body else None)
        except ValueError:
            signature = None
        with _VALID_SHAPES_LOCK:
            if signature in _VALID_SHAPES:
                return
        headers = {k: v for k, v in response.headers.items()}
        errors = spec.response_errors(route, params, path, query, raw or None, response.status_code, body, headers)
        if not errors and signature is not None:
            with _VALID_SHAPES_LOCK:
                _VALID_SHAPES.add(signature)
        for error in errors:
            if response.status_code >= 400 and "is valid under each of" in error:
                continue  # error schemas are oneOf(basic-error, ...) that any {"message"} body matches twice
            details = error.splitlines()[1:]
            if details and all("'' is not a 'uri'" in line for line in details):
                continue  # unset URLs, which GitHub sends as "" (the description's own default; see NOTICE)
            self._response_violation(f"{route.operation_id} ({method} {path}) {status}: {error}")

    def _violation(self, text: str) -> None:
        with self._record_lock:
            self.violations.append(text)

    def _response_violation(self, text: str) -> None:
        with self._record_lock:
            self.response_violations.append(text)


def _shape(value: Any) -> object:
    """What the validity of a JSON response depends on, less what varies from one object to the next: the keys
    and types everywhere, the distinct shapes of array items, and of strings only what a schema checks beyond
    their type (empty or not, a date-time, a URL, and the value itself when it looks like an enum member)."""
    if isinstance(value, dict):
        return ("object", tuple(sorted((key, _shape(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("array", frozenset(_shape(item) for item in value))
    if isinstance(value, str):
        if not value or _ENUM_LIKE.fullmatch(value):
            return ("string", value)
        if _DATE_TIME.fullmatch(value):
            return ("string", "date-time")
        return ("string", "url" if value.startswith(("http://", "https://")) else "text")
    return type(value).__name__
