"""Payments in a run: the WeChat sandbox's side (fault rates, what it recorded and sent) and
the checks run once the load has stopped and the payments have settled; each must be 0.

- double credits: a payment with more than one ``paid`` order event (in MySQL, and as the
  customers saw them).
- paid in WeChat, not in the hub: a trade of this run the sandbox records as paid (SUCCESS,
  or REFUND after a refund) whose payment in the hub is not paid (or refunding / refunded)
  after waiting up to ``--pay-settle`` seconds (the hub asks WeChat about open payments every
  HUB_PAY_QUERY_S, 15 s by default: the wait covers a lost or late notification).
- ledger sum (fen): ``SUM(amount)`` over ``ledger_entries`` (double entry: always 0), when
  the hub has that table.
- refunds above their payment: a payment whose refunded amount, or the sum of its
  successful refunds, is more than the payment.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import replace

import httpx
import orjson

from load.checks import PAY_CHECKS, fetch_in, mysql_params

HUB_PAID = ("paid", "refunding", "refunded")
WECHAT_PAID = ("SUCCESS", "REFUND")


# --- the --pay-faults flag and the sandbox ---------------------------------------------------


def parse_pay_faults(text: str) -> dict[str, dict]:
    """``lost=0.1,duplicate=0.1:copies=2,late=0.05:delay_s=70`` -> the sandbox's ``rates``:
    ``{"lost": {"rate": 0.1}, "duplicate": {"rate": 0.1, "copies": 2}, …}`` (fault names
    and parameters are sandbox/pay_faults.py's; the sandbox refuses unknown ones)."""
    rates: dict[str, dict] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        head, *params = part.split(":")
        name, eq, rate = head.partition("=")
        name = name.strip()
        if not name or not eq:
            raise ValueError(f"bad --pay-faults part {part!r} (try lost=0.1)")
        entry: dict = {"rate": float(rate)}
        if not 0 <= entry["rate"] <= 1:
            raise ValueError(f"--pay-faults {name}: the rate {rate} is not in [0, 1]")
        for param in params:
            key, eq, value = param.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"bad --pay-faults parameter {param!r} (try delay_s=70)")
            number = float(value)
            entry[key.strip()] = int(number) if number.is_integer() else number
        rates[name] = entry
    return rates


async def _sandbox(sandbox: str, method: str, path: str, body=None, timeout: float = 30):
    async with httpx.AsyncClient(base_url=sandbox, timeout=timeout) as http:
        return await http.request(method, path, json=body)


async def sandbox_answers(sandbox: str) -> bool:
    if not sandbox:
        return False
    try:
        return (await _sandbox(sandbox, "GET", "/sandbox/health", timeout=5)).status_code == 200
    except httpx.HTTPError:
        return False


async def sandbox_for(cfg):
    """(the run's RunConfig, a note): unchanged when the sandbox answers; else nobody pays
    (``sandbox=""``) and the note says why. --pay-faults without a sandbox: RuntimeError."""
    if cfg.sandbox and await sandbox_answers(cfg.sandbox):
        return cfg, None
    why = f"no WeChat sandbox answers at {cfg.sandbox!r} (--sandbox)"
    if cfg.pay_faults:
        raise RuntimeError(f"--pay-faults: {why}")
    return replace(cfg, sandbox=""), f"{why}: nothing is paid"


async def apply_faults(sandbox: str, rates: dict, seed: int) -> None:
    """Sets the run's fault rates at the sandbox (RuntimeError when it refuses them)."""
    try:
        r = await _sandbox(sandbox, "POST", "/sandbox/pay/faults", {"seed": seed, "rates": rates})
    except httpx.HTTPError as e:
        raise RuntimeError(f"--pay-faults: the sandbox at {sandbox} did not answer: {e}") from e
    if r.status_code != 200:
        raise RuntimeError(f"--pay-faults: the sandbox refused them: {r.text[:300]}")


async def clear_faults(sandbox: str) -> None:
    try:
        await _sandbox(sandbox, "DELETE", "/sandbox/pay/faults")
    except httpx.HTTPError:
        pass


# --- the checks ------------------------------------------------------------------------------


class PayVerdict:
    """The payment checks' counts, examples, notes and figures for the report."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(PAY_CHECKS, 0)
        self.examples: dict[str, list] = defaultdict(list)
        self.info: dict = {}
        self.figures: dict = {}

    def bad(self, check: str, n: int = 1, example=None) -> None:
        self.counts[check] += n
        if example is not None and len(self.examples[check]) < 10:
            self.examples[check].append(example)

    def merge_into(self, checks: dict) -> None:
        """Adds these to the run's checks (load/checks.py's verdict) and redoes its ``ok``."""
        checks["counts"].update(self.counts)
        for name, found in self.examples.items():
            if found:
                checks["examples"][name] = found
        checks["info"].update(self.info)
        checks["payments"] = self.figures
        checks["ok"] = not any(checks["counts"].values())


def paid_events(rows: list[tuple]) -> tuple[dict[int, int], dict[str, int]]:
    """From ``(order_id, detail)`` rows of ``paid`` events: events per payment, and how
    each payment was found paid (``via``: notification, query (schedule), query (refresh))."""
    per_payment: dict[int, int] = defaultdict(int)
    via: dict[str, int] = defaultdict(int)
    for _oid, detail in rows:
        d = orjson.loads(detail) if isinstance(detail, str | bytes) else (detail or {})
        per_payment[d.get("paymentId")] += 1
        via[str(d.get("via") or "unknown")] += 1
    return dict(per_payment), dict(via)


def query_fallbacks(via: dict[str, int]) -> int:
    return sum(n for how, n in via.items() if how.startswith("query"))


def notification_figures(sent: list[dict], ours: set[str]) -> dict:
    """What the sandbox's log says it sent for this run's trades (payment notifications)."""
    mine = [n for n in sent if n.get("out_trade_no") in ours]
    answered = [n for n in mine if isinstance(n.get("status"), int) and 200 <= n["status"] < 300]
    return {
        "received": sum(1 for n in answered if not n.get("duplicate")),
        "duplicates received": sum(1 for n in answered if n.get("duplicate")),
        "lost (never sent)": sum(1 for n in mine if "lost" in (n.get("faults") or ())),
        "refused or failed": sum(
            1 for n in mine if isinstance(n.get("status"), int) and n["status"] >= 300
        ),
        "trades notified": len({n["out_trade_no"] for n in answered}),
    }


async def run_pay_checks(
    merged: dict, mysql_url: str | None, sandbox: str, settle_s: float
) -> PayVerdict:
    v = PayVerdict()
    for pid, n in merged.get("paid_seen", {}).items():
        if n > 1:
            v.bad("double credits", 1, {"paymentId": pid, "paidEventsSeenByTheCustomer": n})
    if not mysql_url:
        v.info["payment checks"] = "MySQL skipped: only the customers' own view was checked"
        return v
    import aiomysql

    ids = sorted(i for i in set(merged.get("created", [])) if isinstance(i, int))
    try:
        conn = await aiomysql.connect(**mysql_params(mysql_url), autocommit=True)
    except Exception as e:
        v.info["payment checks"] = f"MySQL unreachable: {e}"
        v.counts["paid in WeChat, not in the hub"] = -1  # not checked: not ok
        return v
    try:
        try:
            await _check_payments(v, conn, ids, sandbox, settle_s)
        except (httpx.HTTPError, ValueError, KeyError) as e:  # the sandbox went away
            v.info["paid in WeChat"] = f"not checked: the sandbox failed: {e!r}"[:200]
            v.counts["paid in WeChat, not in the hub"] = -1
        await _check_ledger(v, conn)
    finally:
        conn.close()
    return v


async def _payments(conn, ids: list) -> dict[str, tuple]:
    """out_trade_no -> (payment id, status, amount, refund_amount, successful refunds)."""
    rows = await fetch_in(
        conn,
        "SELECT p.out_trade_no, p.id, p.status, p.amount, p.refund_amount,"
        " COALESCE(SUM(CASE WHEN r.status = 'success' THEN r.amount END), 0)"
        " FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id"
        " WHERE p.order_id IN ({ids}) GROUP BY p.id",
        ids,
    )
    return {r[0]: (r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows}


async def _check_payments(v: PayVerdict, conn, ids: list, sandbox: str, settle_s: float) -> None:
    payments = await _payments(conn, ids) if ids else {}
    v.info["payments of this run"] = len(payments)
    if payments and not await sandbox_answers(sandbox):
        v.info["paid in WeChat"] = f"not checked: no sandbox answers at {sandbox!r} (--sandbox)"
        v.counts["paid in WeChat, not in the hub"] = -1
    elif payments:
        # wait until every trade WeChat has as paid is paid in the hub, or settle_s is over
        deadline = time.time() + settle_s
        waited = 0.0
        while True:
            trades = (await _sandbox(sandbox, "GET", "/sandbox/pay/trades")).json()["trades"]
            paid = {t["out_trade_no"] for t in trades if t.get("trade_state") in WECHAT_PAID}
            missing = [no for no in paid & set(payments) if payments[no][1] not in HUB_PAID]
            if not missing or time.time() >= deadline:
                break
            await asyncio.sleep(1.0)
            waited += 1.0
            payments = await _payments(conn, ids)
        v.info["seconds waited for paid trades to settle"] = waited
        for no in missing:
            pid, status = payments[no][:2]
            v.bad(
                "paid in WeChat, not in the hub",
                1,
                {"paymentId": pid, "outTradeNo": no, "hubStatus": status},
            )
        sent = (await _sandbox(sandbox, "GET", "/sandbox/pay/notifications")).json()
        v.figures["notifications"] = notification_figures(
            [n for n in sent["notifications"] if n.get("event_type") == "TRANSACTION.SUCCESS"],
            set(payments),
        )
        v.figures["paid in WeChat"] = len(paid & set(payments))
    statuses: dict[str, int] = defaultdict(int)
    for pid, status, amount, refunded, refunds in payments.values():
        statuses[status] += 1
        if refunded > amount or refunds > amount:
            v.bad(
                "refunds above their payment",
                1,
                {"paymentId": pid, "amount": amount, "refunded": refunded, "refunds": refunds},
            )
    v.figures["hub payments by status"] = dict(statuses)
    rows = await fetch_in(
        conn,
        "SELECT order_id, detail FROM order_events WHERE action = 'paid' AND order_id IN ({ids})",
        ids,
    )
    per_payment, via = paid_events(rows)
    for pid, n in per_payment.items():
        if n > 1:
            v.bad("double credits", 1, {"paymentId": pid, "paidEventsInMySQL": n})
    v.figures["paid events by way found"] = via
    v.figures["query fall-backs"] = query_fallbacks(via)


async def _check_ledger(v: PayVerdict, conn) -> None:
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ledger_entries'"
        )
        (present,) = await cur.fetchone()
        if not present:
            v.info["ledger sum"] = "skipped: the hub has no ledger_entries table yet"
            return
        await cur.execute("SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM ledger_entries")
        total, n = await cur.fetchone()
    v.info["ledger entries"] = int(n)
    v.counts["ledger sum (fen)"] = int(total)  # the sum itself: anything but 0 fails
    if int(total):
        v.examples["ledger sum (fen)"].append({"sum": int(total), "entries": int(n)})


def payment_figures(counters: dict, checks: dict) -> dict:
    """The report's payment line: the customers' counts, and the hub's and the sandbox's
    once settled (when MySQL and the sandbox were checked)."""
    seen = checks.get("payments") or {}
    by_status = seen.get("hub payments by status")
    notes = seen.get("notifications") or {}
    return {
        "prepaid": counters.get("payments prepaid", 0),
        "paid": sum(by_status.get(s, 0) for s in HUB_PAID)
        if by_status is not None
        else counters.get("payments paid", 0),
        "failed": counters.get("payments failed at the cashier", 0),
        "cancelled": counters.get("payments cancelled at the cashier", 0),
        "notifications received": notes.get("received"),
        "query fall-backs": seen.get(
            "query fall-backs",
            sum(n for k, n in counters.items() if k.startswith("paid via query")),
        ),
        "paid seen by the customer": counters.get("payments paid", 0),
        "refunds": counters.get("refunds made", 0),
        "reviews": counters.get("reviews", 0),
        "details": seen,
    }
