"""What a SAM template says about its REST API: routes, CORS, and each function's settings.

This is the single source the local gateway serves from. It follows SAM's rules for the
parts that matter locally: ``Globals`` merged into every function and API, the implicit
``ServerlessRestApi`` used by events without a ``RestApiId``, and the ``Cors`` shorthand
(a bare string is the allowed origin). Values are quoted strings in SAM's ``Cors`` block
(``"'https://example.com'"``) because API Gateway takes them as mapping expressions; the
quotes are removed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from samtranslator.yaml_helper import yaml_parse

from mysfits.local.gateway.intrinsics import Resolver
from mysfits.local.gateway.parameters import resolve_parameters

IMPLICIT_API = "ServerlessRestApi"
IMPLICIT_STAGE = "Prod"
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class TemplateSyntaxError(ValueError):
    """The template is not valid YAML (the message carries the line and column)."""


def load_template(path: str | Path) -> dict:
    """Parse a CloudFormation/SAM template file with SAM's own loader; errors name the file and the position.

    samtranslator's ``yaml_parse`` turns the short-form tags (``!Ref``, ``!GetAtt a.b``) into the long form that
    CloudFormation sees, so the rest of the gateway deals with one spelling.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise TemplateSyntaxError(f"{path}: no template here (pass --template PATH)") from None
    try:
        document = yaml_parse(text)
    except yaml.YAMLError as exc:
        raise TemplateSyntaxError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateSyntaxError(f"{path}: a template needs a top-level Resources mapping")
    return document


class TemplateError(ValueError):
    """The template is readable but describes something the gateway cannot serve; names the resource."""


@dataclass(frozen=True)
class Cors:
    allow_origin: str
    allow_methods: str | None = None
    allow_headers: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False

    def preflight_headers(self, methods_on_path: list[str]) -> list[tuple[str, str]]:
        """The headers of SAM's generated OPTIONS mock integration."""
        methods = self.allow_methods or ",".join(sorted({*methods_on_path, "OPTIONS"}))
        headers = [("Access-Control-Allow-Origin", self.allow_origin), ("Access-Control-Allow-Methods", methods)]
        if self.allow_headers:
            headers.append(("Access-Control-Allow-Headers", self.allow_headers))
        if self.max_age:
            headers.append(("Access-Control-Max-Age", self.max_age))
        if self.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers


@dataclass(frozen=True)
class RestApi:
    logical_id: str
    stage: str
    cors: Cors | None
    binary_media_types: tuple[str, ...] = ()
    # GatewayResponses type (e.g. DEFAULT_5XX) -> extra headers on responses API Gateway makes itself.
    gateway_responses: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def gateway_response_headers(self, response_type: str, status: int) -> list[tuple[str, str]]:
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        return list(self.gateway_responses.get(response_type, self.gateway_responses.get(default, ())))


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    code_uri: Path
    runtime: str
    timeout_s: float
    memory_mb: int
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    resource: str  # API Gateway resource path, e.g. /mysfits/{id}
    method: str  # upper case, or ANY
    function: Function
    api: RestApi
    pattern: re.Pattern = field(compare=False, repr=False)
    path_parameters: tuple[str, ...] = ()

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else dict(zip(self.path_parameters, found.groups(), strict=True))


@dataclass(frozen=True)
class ApiDefinition:
    routes: tuple[Route, ...]
    functions: Mapping[str, Function]
    parameters: Mapping[str, object]
    template_path: Path

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway would pick: the most specific path, an exact method before ANY."""
        for route in self.routes:
            if route.method in (method, "ANY"):
                params = route.match(path)
                if params is not None:
                    return route, params
        return None

    def methods_on(self, path: str) -> tuple[list[str], RestApi | None]:
        matched = [route for route in self.routes if route.match(path) is not None]
        methods = sorted({m for r in matched for m in ((r.method,) if r.method != "ANY" else HTTP_METHODS)})
        return methods, (matched[0].api if matched else None)


def load_api(
    template_path: str | Path,
    overrides: Mapping[str, str],
    overrides_source: str,
) -> ApiDefinition:
    """Read ``template_path`` and resolve everything the gateway needs, failing early with names."""
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    parameters = resolve_parameters(template, overrides, overrides_source)
    resources: Mapping[str, Mapping] = template["Resources"]
    resolver = Resolver(
        parameters=parameters,
        resources=resources,
        conditions=template.get("Conditions") or {},
        mappings=template.get("Mappings") or {},
    )
    globals_ = template.get("Globals") or {}
    apis = _rest_apis(resources, globals_.get("Api") or {}, resolver)
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        where = f"Resources.{logical_id}.Properties"
        properties = _merge_globals(globals_.get("Function") or {}, resource.get("Properties") or {})
        function = _function(logical_id, properties, template_path.parent, resolver, where)
        functions[logical_id] = function
        for event_name, event in (properties.get("Events") or {}).items():
            route = _route(event, function, apis, resolver, f"{where}.Events.{event_name}")
            if route is not None:
                routes.append(route)
    routes.sort(key=_specificity)
    return ApiDefinition(tuple(routes), functions, parameters, template_path)


def _merge_globals(global_props: Mapping, own: Mapping) -> dict:
    merged = {**global_props, **own}
    global_vars = (global_props.get("Environment") or {}).get("Variables") or {}
    own_vars = (own.get("Environment") or {}).get("Variables") or {}
    if global_vars or own_vars:
        merged["Environment"] = {"Variables": {**global_vars, **own_vars}}
    return merged


def _function(logical_id: str, props: Mapping, base: Path, resolver: Resolver, where: str) -> Function:
    handler = resolver.resolve(props.get("Handler"), f"{where}.Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{where}.Handler must be module.function, got {handler!r}")
    code_uri = resolver.resolve(props.get("CodeUri", "."), f"{where}.CodeUri")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{where}.CodeUri must be a local directory to run locally, got {code_uri!r}")
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {}, f"{where}.Environment")
    return Function(
        logical_id=logical_id,
        handler=handler,
        code_uri=(base / code_uri).resolve(),
        runtime=str(resolver.resolve(props.get("Runtime", ""), f"{where}.Runtime")),
        timeout_s=float(resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT_S), f"{where}.Timeout")),
        memory_mb=int(resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY_MB), f"{where}.MemorySize")),
        environment={name: _env_string(value) for name, value in variables.items()},
    )


def _env_string(value: object) -> str:
    # CloudFormation stringifies environment values; YAML booleans become "true"/"false".
    return str(value).lower() if isinstance(value, bool) else str(value)


def _rest_apis(resources: Mapping[str, Mapping], global_api: Mapping, resolver: Resolver) -> dict[str, RestApi]:
    declared = {
        logical_id: {**global_api, **(resource.get("Properties") or {})}
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Api"
    }
    declared.setdefault(IMPLICIT_API, {**global_api, "StageName": IMPLICIT_STAGE})
    apis = {}
    for logical_id, props in declared.items():
        where = f"Resources.{logical_id}.Properties"
        cors = resolver.resolve(props.get("Cors"), f"{where}.Cors")
        binary = resolver.resolve(props.get("BinaryMediaTypes") or [], f"{where}.BinaryMediaTypes")
        apis[logical_id] = RestApi(
            logical_id=logical_id,
            stage=str(resolver.resolve(props.get("StageName", IMPLICIT_STAGE), f"{where}.StageName")),
            cors=_cors(cors, f"{where}.Cors"),
            # API Gateway writes "*/*" as "*~1*" in templates (a JSON-pointer escape).
            binary_media_types=tuple(str(t).replace("~1", "/") for t in binary),
            gateway_responses=_gateway_responses(
                resolver.resolve(props.get("GatewayResponses") or {}, f"{where}.GatewayResponses")
            ),
        )
    return apis


def _gateway_responses(value: Mapping) -> dict[str, tuple[tuple[str, str], ...]]:
    return {
        response_type: tuple(
            (name, _unquote(header))
            for name, header in ((spec or {}).get("ResponseParameters") or {}).get("Headers", {}).items()
        )
        for response_type, spec in value.items()
    }


def _cors(value: object, where: str) -> Cors | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Cors(allow_origin=_unquote(value))
    if not isinstance(value, dict) or "AllowOrigin" not in value:
        raise TemplateError(f"{where} must be an origin string or a mapping with AllowOrigin, got {value!r}")
    optional = {
        key: _unquote(value[key]) if key in value else None for key in ("AllowMethods", "AllowHeaders", "MaxAge")
    }
    return Cors(
        allow_origin=_unquote(value["AllowOrigin"]),
        allow_methods=optional["AllowMethods"],
        allow_headers=optional["AllowHeaders"],
        max_age=optional["MaxAge"],
        allow_credentials=bool(value.get("AllowCredentials", False)),
    )


def _unquote(value: object) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _route(event: Mapping, function: Function, apis: Mapping[str, RestApi], resolver: Resolver, where: str):
    kind = event.get("Type")
    if kind == "HttpApi":
        raise TemplateError(f"{where}: HttpApi events (payload 2.0) are not served by this gateway; use Type: Api")
    if kind != "Api":
        return None
    props = resolver.resolve(event.get("Properties") or {}, f"{where}.Properties")
    path, method = props.get("Path"), str(props.get("Method", "")).upper()
    if not isinstance(path, str) or not path.startswith("/"):
        raise TemplateError(f"{where}.Properties.Path must start with '/', got {path!r}")
    if method not in (*HTTP_METHODS, "ANY"):
        raise TemplateError(f"{where}.Properties.Method {method!r} is not one of {', '.join(HTTP_METHODS)}, ANY")
    api_id = props.get("RestApiId", IMPLICIT_API)
    if api_id not in apis:
        raise TemplateError(f"{where}.Properties.RestApiId {api_id!r} is not an AWS::Serverless::Api in the template")
    pattern, names = _compile_path(path, where)
    return Route(path, method, function, apis[api_id], pattern, names)


_SEGMENT_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


def _compile_path(path: str, where: str) -> tuple[re.Pattern, tuple[str, ...]]:
    parts, names = [], []
    for segment in path.strip("/").split("/") if path != "/" else []:
        param = _SEGMENT_PARAM.match(segment)
        if param is None:
            if "{" in segment or "}" in segment:
                raise TemplateError(f"{where}.Properties.Path segment {segment!r} mixes text and a {{parameter}}")
            parts.append(re.escape(segment))
            continue
        name, greedy = param.groups()
        names.append(name)
        parts.append("(.+)" if greedy else "([^/]+)")
    return re.compile("/" + "/".join(parts)), tuple(names)


def _specificity(route: Route) -> tuple:
    segments = [s for s in route.resource.split("/") if s]
    literal = sum(1 for s in segments if not s.startswith("{"))
    greedy = any(s.endswith("+}") for s in segments)
    return (greedy, -literal, -len(segments), route.method == "ANY", route.resource, route.method)
