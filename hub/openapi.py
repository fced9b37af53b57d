"""The OpenAPI document, built from the same declarations that route requests."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, TypeAdapter

from hub.router import Call, Endpoint, Router

router = Router("health")

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


_ERRORS = ("400", "401", "403", "404", "409", "422", "429")
_WECHAT_FAIL = {"type": "object", "properties": {"code": {}, "message": {}}}


def _schema(tp, components: dict) -> dict:
    ref = "#/components/schemas/{model}"
    schema = TypeAdapter(tp).json_schema(by_alias=True, ref_template=ref)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        components[tp.__name__] = schema
        return {"$ref": ref.format(model=tp.__name__)}
    return schema


@cache
def _document(endpoints: tuple[Endpoint, ...]) -> dict:
    components: dict = {"Error": _ERROR}
    paths: dict = {}
    for ep in endpoints:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", ep.path)
        op: dict = {
            "summary": ep.summary,
            "tags": [ep.tag],
            "operationId": ep.handler.__name__,
            "responses": {},
        }
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
            for n in re.findall(r"\{(\w+)", path)
        ]
        if ep.query is not None:
            for name, field in ep.query.model_fields.items():
                params.append(
                    {
                        "name": field.alias or name,
                        "in": "query",
                        "required": field.is_required(),
                        "schema": _schema(field.annotation, components),
                    }
                )
        if params:
            op["parameters"] = params
        if ep.body is not None and ep.body.model_fields:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(ep.body, components)}},
            }
        ok: dict = {"description": "success"}
        if ep.response is not None:
            ok["content"] = {"application/json": {"schema": _schema(ep.response, components)}}
        op["responses"][str(ep.status)] = ok
        if ep.wechat_callback:  # WeChat Pay's notification: its own answer shape
            op["x-wechat-callback"] = True
            schema, statuses = _WECHAT_FAIL, ("400", "401", "413", "500")
        else:
            schema, statuses = {"$ref": "#/components/schemas/Error"}, _ERRORS
            if ep.roles is None:  # no token checked; a login refuses bad credentials (401)
                public = ("403",) if ep.tag == "auth" else ("401", "403")
                statuses = tuple(s for s in statuses if s not in public)
        for status in statuses:
            op["responses"][status] = {
                "description": "error",
                "content": {"application/json": {"schema": schema}},
            }
        if ep.roles is not None:
            op["security"] = [{"bearer": []}]
            op["x-roles"] = list(ep.roles)
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orderhub",
            "version": "0.1.0",
            "description": "Real-time order hub. Socket.IO events: see docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def document(endpoints: list[Endpoint]) -> dict:
    return _document(tuple(endpoints))


@router.route("GET", "/api/openapi.json")
async def openapi(call: Call):
    """This API as an OpenAPI 3.1 document, generated from the endpoint declarations."""
    return document(call.request.app.state.endpoints)
