"""A tiny declarative router: each endpoint names its body, query, response models and roles.

One declaration feeds both Starlette's routing and the OpenAPI document, so the docs cannot
drift from what the code accepts.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.routing import Route

from hub.auth import Principal, principal_from_request
from hub.errors import ApiError, BadRequest, Forbidden, Invalid
from hub.responses import json_response

MAX_BODY = 64 * 1024


@dataclass
class Call:
    """What a handler gets: the request, the caller, validated input, and the hub's services."""

    request: Request
    hub: Any
    user: Principal | None
    body: Any = None
    query: Any = None
    path: dict = field(default_factory=dict)

    @property
    def me(self) -> Principal:
        assert self.user is not None
        return self.user


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(eq=False)  # hashed by identity: the OpenAPI document is cached per set
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[str, ...] | None  # None: public
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    tag: str
    wechat_callback: bool = False  # called by WeChat: answers in WeChat's shape, not §2's


def validation_message(exc: ValidationError) -> tuple[str, list[dict]]:
    fields = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        message = err["msg"]
        if loc == "body" and err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            message = "send a JSON object"
        fields.append({"field": loc, "message": message})
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return f"{first['field']}: {first['message']}", fields


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, fields = validation_message(exc)
        raise Invalid(message, fields=fields) from None


async def read_json(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    if ctype and "json" not in ctype:
        raise ApiError("send the body as application/json", "unsupported_media_type", 415)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(f"body larger than {MAX_BODY} bytes", "payload_too_large", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(f"body larger than {MAX_BODY} bytes", "payload_too_large", 413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("body is not valid JSON", "bad_json") from None


class Router:
    def __init__(self, tag: str):
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: tuple[str, ...] | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        wechat_callback: bool = False,
    ):
        def register(fn: Handler) -> Handler:
            summary = inspect.getdoc(fn) or fn.__name__
            self.endpoints.append(
                Endpoint(
                    method,
                    path,
                    fn,
                    summary.splitlines()[0],
                    roles,
                    body,
                    query,
                    response,
                    status,
                    self.tag,
                    wechat_callback,
                )
            )
            return fn

        return register


def to_starlette(endpoints: list[Endpoint]) -> list[Route]:
    by_path: dict[str, list[Endpoint]] = {}
    for ep in endpoints:
        by_path.setdefault(ep.path, []).append(ep)
    return [
        Route(path, _dispatcher(eps), methods=[e.method for e in eps])
        for path, eps in by_path.items()
    ]


def _dispatcher(endpoints: list[Endpoint]):
    table = {ep.method: ep for ep in endpoints}

    async def dispatch(request: Request):
        ep = table[request.method]
        hub = request.app.state.hub
        user = None
        if ep.roles is not None:
            user = principal_from_request(request, hub.tokens)
            if user.role not in ep.roles:
                raise Forbidden(f"this needs the role {' or '.join(ep.roles)}")
        call = Call(request=request, hub=hub, user=user, path=dict(request.path_params))
        if ep.body is not None:
            call.body = validate(ep.body, await read_json(request))
        if ep.query is not None:
            call.query = validate(ep.query, dict(request.query_params))
        result = await ep.handler(call)
        if isinstance(result, BaseModel):
            result = result.model_dump(by_alias=True, mode="json")
        status = ep.status
        if isinstance(result, tuple):
            result, status = result
        return json_response(result, status=status)

    return dispatch
