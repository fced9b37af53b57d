"""JSON responses rendered with orjson."""

from __future__ import annotations

import orjson
from starlette.responses import Response


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, headers=headers, media_type="application/json"
    )
