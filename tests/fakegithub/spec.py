"""GitHub's OpenAPI description (tests/fixtures/github/openapi.json): routing and validation.

Routing is our own: path parameters may contain "/" (git/ref/heads/a/b, contents/a/b.txt,
compare/main...depup/x), which openapi-core's path finder cannot match, so each template becomes a
regex and the validator gets the matched template and values (MockRequest path_pattern/view_args).
The description is parsed once per process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from .templates import FIXTURES

SPEC_HOST = "https://api.github.com"  # the description's server; only used inside the validator
SLASH_PARAMS = {"path", "ref", "basehead"}  # parameters that may contain "/"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    literal_length: int


@dataclass
class Spec:
    document: dict[str, Any]
    openapi: OpenAPI
    routes: list[Route]

    def operation(self, route: Route) -> dict[str, Any]:
        op: dict[str, Any] = self.document["paths"][route.template][route.method.lower()]
        return op

    def declared_statuses(self, route: Route) -> set[str]:
        return set(self.operation(route).get("responses", {}))


def _route_regex(template: str) -> tuple[re.Pattern[str], int]:
    pattern = ""
    literal = 0
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            value = ".*" if name == "path" else ".+" if name in SLASH_PARAMS else "[^/]+"
            pattern += f"(?P<{name}>{value})"
        else:
            pattern += re.escape(part)
            literal += len(part)
    return re.compile(f"^{pattern}$"), literal


@cache
def load_spec() -> Spec:
    document: dict[str, Any] = json.loads((FIXTURES / "openapi.json").read_text())
    openapi = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
    routes = []
    for template, item in document["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and "operationId" in op:
                regex, literal = _route_regex(template)
                routes.append(Route(method.upper(), template, op["operationId"], regex, literal))
    # the most literal template wins: /commits/{ref}/status before /commits/{ref}
    routes.sort(key=lambda r: -r.literal_length)
    return Spec(document, openapi, routes)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in load_spec().routes:
        if route.method != method.upper():
            continue
        found = route.regex.match(path)
        if found:
            return route, found.groupdict()
    return None


def _mock_request(
    route: Route, params: dict[str, str], path: str, query: dict[str, Any], body: bytes | None, content_type: str | None
) -> MockRequest:
    return MockRequest(
        SPEC_HOST,
        route.method.lower(),
        path,
        path_pattern=route.template,
        args=query,
        view_args=params,
        data=body if body else None,
        content_type=content_type or "application/json",
    )


def _describe(error: Exception) -> list[str]:
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    details: list[str] = []
    if schema_errors:
        for schema_error in schema_errors:
            where = "/".join(str(p) for p in schema_error.absolute_path)
            details.append(f"{where or '(body)'}: {schema_error.message}")
    elif cause is not None:
        details.append(f"{type(cause).__name__}: {cause}")
        nested = getattr(cause, "__cause__", None)
        nested_errors = getattr(nested, "schema_errors", None)
        for schema_error in nested_errors or ():
            details.append(f"  {schema_error.message}")
    headline = f"{type(error).__name__}: {error}"
    if details and len(headline) > 200:
        headline = type(error).__name__
    return [headline, *details]


def request_errors(
    route: Route, params: dict[str, str], path: str, query: dict[str, Any], body: bytes | None, content_type: str | None
) -> list[str]:
    request = _mock_request(route, params, path, query, body, content_type)
    return ["\n  ".join(_describe(error)) for error in load_spec().openapi.iter_request_errors(request)]


def response_errors(
    route: Route,
    params: dict[str, str],
    path: str,
    query: dict[str, Any],
    request_body: bytes | None,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> list[str]:
    request = _mock_request(route, params, path, query, request_body, "application/json")
    response = MockResponse(body, status_code=status, headers=headers, content_type="application/json")
    return ["\n  ".join(_describe(error)) for error in load_spec().openapi.iter_response_errors(request, response)]
