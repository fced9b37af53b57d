"""orjson behind the `dumps`/`loads` interface python-socketio expects (it wants str)."""

from __future__ import annotations

import orjson


def dumps(obj, **_ignored) -> str:
    return orjson.dumps(obj).decode()


def loads(data, **_ignored):
    return orjson.loads(data)
