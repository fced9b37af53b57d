"""Correctness checks run at the end of every run; each must come out 0.

- double assignments: an order that two providers were told they won (grab/accept acks),
  or whose MySQL events show two accepts, or whose provider in MySQL is not the winner.
- events lost or out of seq: a push with ``seq > last + 1`` (live), a gap inside a
  ``missed`` list, a watch ack whose order is ahead of its ``missed`` list, or a client that
  stayed connected since its last sync and still saw fewer events than MySQL has.
- offers never withdrawn: an offer still in a provider's ``hall.snapshot`` after the drain
  whose order is no longer open to that provider (taken, cancelled, expired, or a direct /
  auto offer that moved on).
- acknowledged actions missing in MySQL: an acked action (REST or socket) without its
  ``order_events`` row (same seq, status, action), an acked chat without its ``messages``
  row, a created order without its ``orders`` row.

The payment checks (double credits, paid in WeChat but not in the hub, the ledger's sum,
refunds above their payment) are in load/pay_checks.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from urllib.parse import unquote, urlparse

from actors.dispatch.plan import offered_to

# The payment checks (load/pay_checks.py), run once the run has settled.
PAY_CHECKS = (
    "double credits",
    "paid in WeChat, not in the hub",
    "ledger sum (fen)",
    "refunds above their payment",
)
CHECKS = (
    "double assignments",
    "events lost or out of seq",
    "offers never withdrawn",
    "acknowledged actions missing in MySQL",
    *PAY_CHECKS,
)


def merge_finals(finals: list[dict]) -> dict:
    out: dict = defaultdict(list)
    gaps: dict = defaultdict(int)
    contention: dict = {}
    features: dict = {}
    paid_seen: dict = {}
    for f in finals:
        for k in (
            "wins",
            "acked",
            "acked_chats",
            "created",
            "streams",
            "gap_examples",
            "in_hall",
            "not_notified",
            "payments",
        ):
            out[k].extend(f.get(k, []))
        for pid, n in f.get("paid_seen", {}).items():
            paid_seen[pid] = paid_seen.get(pid, 0) + n
        for k, v in f.get("gaps", {}).items():
            gaps[k] += v
        for oid, (a, lost) in f.get("contention", {}).items():
            c = contention.setdefault(oid, [0, 0])
            c[0] += a
            c[1] += lost
        features.update(f.get("features", {}))
    out["gaps"] = dict(gaps)
    out["contention"] = contention
    out["features"] = features
    out["paid_seen"] = paid_seen
    return dict(out)


def contention_summary(contention: dict) -> dict:
    """How many providers went for the same order, and how many of them lost."""
    if not contention:
        return {"orders": 0}
    attempts = sorted(a for a, _ in contention.values())
    lost = sum(lost for _, lost in contention.values())
    total = sum(attempts)
    hist: dict[str, int] = defaultdict(int)
    for a in attempts:
        key = str(a) if a <= 5 else ("6-20" if a <= 20 else ("21-100" if a <= 100 else ">100"))
        hist[key] += 1
    return {
        "orders": len(attempts),
        "grab attempts": total,
        "lost (already_taken)": lost,
        "attempts per order p50": attempts[len(attempts) // 2],
        "attempts per order max": attempts[-1],
        "orders by attempts": dict(hist),
    }


def mysql_params(url: str) -> dict:
    u = urlparse(url)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 3306,
        "user": unquote(u.username or "root"),
        "password": unquote(u.password or ""),
        "db": (u.path or "/orderhub").lstrip("/") or "orderhub",
    }


async def fetch_in(conn, sql: str, ids: list, extra: tuple = ()) -> list[tuple]:
    rows: list[tuple] = []
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        async with conn.cursor() as cur:
            await cur.execute(sql.format(ids=",".join(["%s"] * len(chunk))), (*chunk, *extra))
            rows.extend(await cur.fetchall())
    return rows


async def run_checks(merged: dict, mysql_url: str | None, t_stop: float | None = None) -> dict:
    """Returns ``{"counts": {check: n}, "examples": {...}, "info": {...}, "ok": bool}``."""
    counts = dict.fromkeys(CHECKS, 0)
    examples: dict[str, list] = defaultdict(list)
    info: dict = {}

    def bad(check: str, n: int = 1, example=None) -> None:
        counts[check] += n
        if example is not None and len(examples[check]) < 10:
            examples[check].append(example)

    # --- what the clients saw ---------------------------------------------------------
    winners: dict[int, set] = defaultdict(set)
    for oid, pid, _how, _t in merged.get("wins", []):
        winners[oid].add(pid)
    for oid, pids in winners.items():
        if len(pids) > 1:
            bad("double assignments", 1, {"orderId": oid, "toldTheyWon": sorted(pids)})
    gaps = merged.get("gaps", {})
    for n in gaps.values():
        if n:
            bad("events lost or out of seq", n)
    for ex in merged.get("gap_examples", []):
        if len(examples["events lost or out of seq"]) < 10:
            examples["events lost or out of seq"].append(ex)
    info["open offers the provider was never told about"] = len(merged.get("not_notified", []))

    def verdict(mysql: bool, **more) -> dict:
        """The result: ok when every count is 0; `mysql`: whether MySQL was checked."""
        return {
            "counts": counts,
            "examples": dict(examples),
            "info": info,
            "ok": not any(counts.values()),
            "mysql": mysql,
            **more,
        }

    if not mysql_url:
        info["mysql"] = "skipped"
        return verdict(False)

    # --- what MySQL says -------------------------------------------------------------------
    import aiomysql

    order_ids = set(merged.get("created", []))
    order_ids.update(a[0] for a in merged.get("acked", []))
    order_ids.update(w[0] for w in merged.get("wins", []))
    order_ids.update(s[0] for s in merged.get("streams", []))
    order_ids.update(h[1] for h in merged.get("in_hall", []))
    order_ids.update(c[0] for c in merged.get("acked_chats", []))
    ids = sorted(i for i in order_ids if isinstance(i, int))
    try:
        conn = await aiomysql.connect(**mysql_params(mysql_url), autocommit=True)
    except Exception as e:
        info["mysql"] = f"unreachable: {e}"
        counts["acknowledged actions missing in MySQL"] = -1  # -1: not 0, so not ok
        return verdict(False)
    try:
        orders = {
            r[0]: {
                "status": r[1],
                "seq": r[2],
                "provider": r[3],
                "mode": r[4],
                # every personal offer held now: a batch's (the dispatch state), a direct or
                # assigned one (the column)
                "offered": offered_to({"offered_provider_id": r[5], "dispatch": r[6]}),
            }
            for r in await fetch_in(
                conn,
                "SELECT id, status, seq, provider_id, dispatch_mode, offered_provider_id,"
                " dispatch FROM orders WHERE id IN ({ids})",
                ids,
            )
        }
        ev_rows = await fetch_in(
            conn,
            "SELECT order_id, seq, status, action, created_at FROM order_events"
            " WHERE order_id IN ({ids})",
            ids,
        )
        msg_rows = await fetch_in(
            conn,
            "SELECT order_id, seq, client_msg_id, created_at FROM messages"
            " WHERE order_id IN ({ids})",
            ids,
        )
        events = {(r[0], r[1]): (r[2], r[3]) for r in ev_rows}
        messages = {(r[0], r[1]): r[2] for r in msg_rows}
        # the last seq of each order among events made before the load stopped: those must
        # have reached every connected watcher by the end of the drain
        due: dict[int, int] = defaultdict(int)
        for r in (*ev_rows, *msg_rows):
            made = r[-1].replace(tzinfo=UTC).timestamp() if r[-1] is not None else 0.0
            if t_stop is None or made <= t_stop:
                due[r[0]] = max(due[r[0]], r[1])
    finally:
        conn.close()

    # double assignment, as MySQL tells it
    accepts: dict[int, int] = defaultdict(int)
    for (oid, _seq), (_status, action) in events.items():
        if action in ("grab", "accept"):
            accepts[oid] += 1
    for oid, n in accepts.items():
        if n > 1:
            bad("double assignments", 1, {"orderId": oid, "acceptEventsInMySQL": n})
    for oid, pids in winners.items():
        row = orders.get(oid)
        if row is not None and len(pids) == 1 and row["provider"] not in pids:
            bad(
                "double assignments",
                1,
                {"orderId": oid, "toldTheyWon": sorted(pids), "providerInMySQL": row["provider"]},
            )

    # acknowledged actions
    for oid, seq, status, action in merged.get("acked", []):
        if oid not in orders:
            bad(
                "acknowledged actions missing in MySQL",
                1,
                {"orderId": oid, "action": action, "missing": "orders row"},
            )
            continue
        if not isinstance(seq, int) or (action == "create" and seq == 0):
            continue
        if action == "create":
            # a create replayed by its Idempotency-Key answers the order as it is now (a later
            # seq); what was acknowledged is the order's first event
            ev = events.get((oid, 1))
            missing = ev is None or ev[1] != "create"
            seq = 1
        else:
            ev = events.get((oid, seq))
            missing = ev is None or ev[0] != status or ev[1] != action
        if missing:
            bad(
                "acknowledged actions missing in MySQL",
                1,
                {"orderId": oid, "seq": seq, "acked": [status, action], "mysql": ev},
            )
    for oid, seq, cmid in merged.get("acked_chats", []):
        if messages.get((oid, seq)) != cmid:
            bad(
                "acknowledged actions missing in MySQL",
                1,
                {"orderId": oid, "seq": seq, "chat": cmid, "mysql": messages.get((oid, seq))},
            )

    # events the clients never saw
    behind = late = 0
    for oid, last, clean, role, idx in merged.get("streams", []):
        row = orders.get(oid)
        if row is None:
            continue
        if last > row["seq"]:
            bad(
                "events lost or out of seq",
                1,
                {"orderId": oid, "client": f"{role}-{idx}", "saw": last, "mysqlSeq": row["seq"]},
            )
        elif last < row["seq"] and last >= due.get(oid, 0):
            late += 1  # only events made after the load stopped are missing
        elif last < row["seq"]:
            if clean:
                bad(
                    "events lost or out of seq",
                    1,
                    {
                        "orderId": oid,
                        "client": f"{role}-{idx}",
                        "lastSeen": last,
                        "dueSeq": due.get(oid),
                        "mysqlSeq": row["seq"],
                    },
                )
            else:
                behind += 1
    info["streams behind after a failed re-sync (not counted)"] = behind
    info["streams missing only events made after the load stopped (not counted)"] = late
    info["streams checked"] = len(merged.get("streams", []))

    # offers left in the hall (the runner looks again later and keeps those still there)
    stale = []
    for pid, oid, _mode in merged.get("in_hall", []):
        row = orders.get(oid)
        if row is None:
            continue
        open_to_me = row["status"] == "pending" and (row["mode"] == "grab" or pid in row["offered"])
        if not open_to_me:
            stale.append(
                {"providerId": pid, "orderId": oid, "status": row["status"], "mode": row["mode"]}
            )
    info["orders checked in MySQL"] = len(orders)
    return verdict(True, stale_offers=stale)


def confirm_stale(checks: dict, still: set) -> None:
    """Keep the stale offers still in the hall on the second look; update the verdict."""
    stale = checks.pop("stale_offers", [])
    kept = [s for s in stale if (s["providerId"], s["orderId"]) in still]
    checks["counts"]["offers never withdrawn"] = len(kept)
    if kept:
        checks["examples"]["offers never withdrawn"] = kept[:10]
    checks["info"]["stale offers withdrawn before the second look"] = len(stale) - len(kept)
    checks["ok"] = not any(checks["counts"].values())
