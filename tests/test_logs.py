"""Structured logs (adapters/logs.py, docs/operations.md): after a lifecycle (login, order, grab,
payment through the sandbox) no line of the hub's log or of the Ray hosts' logs holds the
customer's phone number, an openid, a token or a key; the hub's lines are JSON; one request id
runs from the hub's line through the host's line to the order event's row in MySQL."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from db import rows
from test_metrics import lifecycle
from waiting import until

from adapters import logs


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def _secrets(state: Path, done, world) -> dict[str, str]:
    """What must never be logged, by what it is."""
    out = {"phone": done.phone}
    for user in (done.customer, done.provider):
        (openid,) = rows("SELECT openid FROM users WHERE id = %s", (user.user_id,))[0]
        out[f"openid {user.user_id}"] = openid
        out[f"token {user.user_id}"] = user.token
        out[f"token tail {user.user_id}"] = user.token.rsplit(".", 1)[1]  # the signature
    out["admin token"] = world._admin.token
    out["jwt secret"] = (state / "hub-secret").read_text().strip()
    out["phone key"] = (state / "phone-key").read_text().strip()
    keys = json.loads((state / "wechat-pay-keys.json").read_text())
    out["apiv3 key"] = keys["apiv3_key"]
    for name in ("merchant_private_key", "platform_private_key"):
        body = [ln for ln in keys[name].splitlines() if ln and not ln.startswith("-----")]
        out[name] = body[len(body) // 2]  # any line of the key's body
    return out


async def test_no_secret_in_any_log_line(world, sandbox, hub, workdir):
    done = await lifecycle(world, sandbox)
    secrets = _secrets(workdir / "state", done, world)
    oid = done.order["id"]

    # the grab's request id: the hub's line, the host's line, the order event's cmd_id
    def grab_line():
        for line in _lines(hub.log):
            if line.startswith("{"):
                entry = orjson.loads(line)
                if entry.get("msg") == "order command" and entry.get("order") == oid:
                    if entry.get("action") == "grab":
                        return entry
        return None

    hub_line = await until(grab_line, "the hub's log line of the grab")
    rid = hub_line["rid"]
    assert hub_line["cmd"].startswith(rid + ".") and logs.rid_of(hub_line["cmd"]) == rid
    (cmd_id,) = rows(
        "SELECT cmd_id FROM order_events WHERE order_id = %s AND action = 'grab'", (oid,)
    )[0]
    assert cmd_id == hub_line["cmd"]  # MySQL holds the same id

    def host_line():
        for path in sorted((workdir / "ray").glob("session_*/logs/worker-*")):
            for line in _lines(path):
                if rid in line and line.startswith("{"):
                    return orjson.loads(line)
        return None

    host = await until(host_line, f"a host's log line with the request id {rid}", timeout=20)
    assert host["msg"] == "order command applied" and host["order"] == oid
    assert host["proc"].startswith("host:") and host["action"] == "grab"

    # every line of our processes: the hub's log and every Ray worker's
    logged = {hub.log: _lines(hub.log)}
    for path in sorted((workdir / "ray").glob("session_*/logs/*")):
        if path.is_file() and path.suffix in (".out", ".err", ".log"):
            logged[path] = _lines(path)
    leaks = [
        (what, path.name, line[:200])
        for path, lines in logged.items()
        for line in lines
        for what, secret in secrets.items()
        if secret and secret in line
    ]
    assert leaks == []

    # the hub's own log lines are JSON (the [orderhub] banner lines are prints, not logs)
    ours = [ln for ln in logged[hub.log] if ln.startswith("{")]
    assert len(ours) > 10
    for line in ours:
        entry = orjson.loads(line)
        assert {"ts", "level", "logger", "msg"} <= set(entry)


def test_redaction_is_the_last_line_of_defence():
    line = logs.redact(
        "phone 13800138000 +86 13912345678 token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-sig-sig"
        ' "openid": "o-sandbox-abcdef123" key ' + "ab" * 32 + " order 12345678901234"
    )
    assert "13800138000" not in line and "13912345678" not in line
    assert "eyJ" not in line and "o-sandbox-abcdef123" not in line and "ab" * 32 not in line
    assert "order 12345678901234" in line  # a long number is not a phone
