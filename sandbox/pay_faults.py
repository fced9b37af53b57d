"""Fault injection for the WeChat Pay sandbox: per payment, or as rates, with an optional seed.

A spec (POST /sandbox/pay/faults, or WECHAT_SANDBOX_PAY_FAULTS at start), every part optional:

    {"seed": 7,
     "trades": {"<out_trade_no or out_refund_no>": {"<fault>": true | {<params>}, …}, …},
     "rates": {"<fault>": 0.25 | {"rate": 0.25, <params>}, …},
     "bill_extra": [{"out_trade_no": "GHOST-1", "amount": 100, "date": "2025-01-31"}, …]}

Posting merges into what is set (per payment, per fault); DELETE clears everything. A payment's
own entry wins over a rate. With a seed, whether a rate hits a given payment depends only on
(seed, fault, payment, how many times that fault was asked about that payment): the same run
gives the same faults whatever the interleaving.
"""

from __future__ import annotations

import json
import random
import re
import secrets
from collections import Counter

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# fault -> its parameters and their defaults (None: worked out from the payment).
FAULTS: dict[str, dict[str, float | int | str | None]] = {
    # notifications (TRANSACTION.SUCCESS by out_trade_no, REFUND.SUCCESS by out_refund_no)
    "duplicate": {"copies": 1},  # delivered again, `copies` more times, after the first
    "late": {"delay_s": 5.0},  # the first delivery waits this long
    "lost": {},  # never sent; the trade is paid and queryable all the same
    "forged_signature": {"attempts": 1},  # the first `attempts` deliveries: a foreign key signs
    "wrong_amount": {"amount": None, "attempts": 1},  # amount.total/payer_total (default +1)
    "wrong_appid": {"appid": "wx00000000000000ff", "attempts": 1},
    "wrong_mchid": {"mchid": "1900000999", "attempts": 1},
    "old_timestamp": {"age_s": 600, "attempts": 1},  # Wechatpay-Timestamp that far back
    # the cashier
    "pay_error": {},  # "success" at the cashier ends in PAYERROR (insufficient balance)
    # queries (GET /v3/pay/transactions/…) of this trade
    "query_5xx": {"times": 1, "status": 500},  # 500 SYSTEM_ERROR (or 502/503/504)
    "query_timeout": {"times": 1, "delay_s": 30.0},  # the answer comes after delay_s
    # the trade bill
    "bill_omit": {},  # the trade is missing from the bill
    "bill_amount": {"amount": None},  # the bill shows another amount (default +1)
}
COUNTED = ("query_5xx", "query_timeout")  # `times`: used up one per query
NOTIFY_TAMPERING = ("forged_signature", "wrong_amount", "wrong_appid", "wrong_mchid")
TAMPERING = (*NOTIFY_TAMPERING, "old_timestamp")
SPEC_KEYS = ("seed", "trades", "rates", "bill_extra")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FaultSpecError(ValueError):
    pass


def _params(name: str, value: object, where: str) -> dict:
    if name not in FAULTS:
        raise FaultSpecError(f"{where}: unknown fault {name!r}; known: {', '.join(FAULTS)}")
    if value is True:
        return {}
    if not isinstance(value, dict):
        raise FaultSpecError(f"{where}.{name}: true or an object of parameters")
    defaults = FAULTS[name]
    for key, given in value.items():
        if key not in defaults:
            known = ", ".join(defaults) or "none"
            raise FaultSpecError(f"{where}.{name}: unknown parameter {key!r} (known: {known})")
        kind = str if isinstance(defaults[key], str) else (int, float)
        if isinstance(given, bool) or not isinstance(given, kind):
            raise FaultSpecError(f"{where}.{name}.{key}: {given!r} is not a valid value")
    return dict(value)


def _rate(name: str, value: object) -> dict:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"rate": value}
    if not isinstance(value, dict) or "rate" not in value:
        raise FaultSpecError(f"rates.{name}: a number in [0, 1] or {{'rate': …, <params>}}")
    rate = value["rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise FaultSpecError(f"rates.{name}.rate: {rate!r} is not in [0, 1]")
    params = _params(name, {k: v for k, v in value.items() if k != "rate"}, "rates")
    return {"rate": float(rate), **params}


def _extra(entry: object, i: int) -> dict:
    where = f"bill_extra[{i}]"
    if not isinstance(entry, dict) or set(entry) - {"out_trade_no", "amount", "date"}:
        raise FaultSpecError(f"{where}: {{out_trade_no, amount, date?}}")
    if not isinstance(entry.get("out_trade_no"), str) or not entry["out_trade_no"]:
        raise FaultSpecError(f"{where}.out_trade_no: a non-empty string")
    amount = entry.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise FaultSpecError(f"{where}.amount: a positive number of fen")
    if "date" in entry and not (isinstance(entry["date"], str) and _DATE.fullmatch(entry["date"])):
        raise FaultSpecError(f"{where}.date: YYYY-MM-DD")
    return dict(entry)


class Faults:
    def __init__(self, spec: dict | None = None) -> None:
        self.clear()
        if spec:
            self.configure(spec)

    def clear(self) -> None:
        self.seed: int | str | None = None
        self.trades: dict[str, dict[str, dict]] = {}
        self.rates: dict[str, dict] = {}
        self.bill_extra: list[dict] = []
        self._asked: Counter[tuple[str, str]] = Counter()
        self._random_seed = secrets.token_hex(8)  # without a seed: random, but per run

    def configure(self, spec: object) -> None:
        """Merges a spec in, all or nothing (FaultSpecError says what is wrong)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a JSON object: {seed?, trades?, rates?, bill_extra?}")
        unknown = set(spec) - set(SPEC_KEYS)
        if unknown:
            raise FaultSpecError(f"unknown keys {sorted(unknown)}: seed, trades, rates, bill_extra")
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
            raise FaultSpecError("seed: an integer or a string")
        trades = spec.get("trades", {})
        if not isinstance(trades, dict):
            raise FaultSpecError("trades: {out_trade_no: {fault: true | {params}}}")
        parsed: dict[str, dict[str, dict]] = {}
        for key, faults in trades.items():
            if not isinstance(faults, dict):
                raise FaultSpecError(f"trades.{key}: {{fault: true | {{params}}}}")
            parsed[key] = {n: _params(n, v, f"trades.{key}") for n, v in faults.items()}
        rates = spec.get("rates", {})
        if not isinstance(rates, dict):
            raise FaultSpecError("rates: {fault: rate | {rate, params}}")
        parsed_rates = {name: _rate(name, value) for name, value in rates.items()}
        for name in parsed_rates:
            if name not in FAULTS:
                raise FaultSpecError(f"rates: unknown fault {name!r}; known: {', '.join(FAULTS)}")
        extra = spec.get("bill_extra", [])
        if not isinstance(extra, list):
            raise FaultSpecError("bill_extra: a list of {out_trade_no, amount, date?}")
        parsed_extra = [_extra(entry, i) for i, entry in enumerate(extra)]
        # Everything is valid: apply.
        if "seed" in spec:
            self.seed = seed
            self._asked.clear()
        for key, faults in parsed.items():
            self.trades.setdefault(key, {}).update(faults)
        self.rates.update(parsed_rates)
        self.bill_extra.extend(parsed_extra)

    def json(self) -> dict:
        return {key: getattr(self, key) for key in SPEC_KEYS}

    def _hits(self, name: str, key: str) -> dict | None:
        rate = self.rates.get(name)
        if rate is None:
            return None
        # A counted fault is decided per query; any other once per payment, the same each time.
        n = self._asked[(name, key)] if name in COUNTED else 0
        self._asked[(name, key)] += 1
        seed = self._random_seed if self.seed is None else self.seed
        rng = random.Random(f"{seed}|{name}|{key}|{n}")
        return rate if rng.random() < rate["rate"] else None

    def get(self, name: str, key: str) -> dict | None:
        """The fault's parameters (defaults filled in) if it applies to this payment, else None.

        A counted fault (query_5xx, query_timeout) set for the payment is used up one per call.
        """
        own = self.trades.get(key, {})
        if name in own:
            params = {**FAULTS[name], **own[name]}
            if name in COUNTED:
                left = params["times"] - 1
                if left <= 0:
                    del own[name]
                else:
                    own[name]["times"] = left
            return params
        hit = self._hits(name, key)
        if hit is None:
            return None
        return {**FAULTS[name], **{k: v for k, v in hit.items() if k != "rate"}}

    @property
    def routes(self) -> list[Route]:
        return [Route("/sandbox/pay/faults", self.endpoint, methods=["GET", "POST", "DELETE"])]

    async def endpoint(self, request: Request) -> JSONResponse:
        if request.method == "DELETE":
            self.clear()
        elif request.method == "POST":
            try:
                self.configure(json.loads(await request.body()))
            except ValueError as exc:  # FaultSpecError or bad JSON
                return JSONResponse({"error": str(exc), "faults": list(FAULTS)}, status_code=400)
        return JSONResponse(self.json())


def from_env(raw: str | None) -> Faults:
    """WECHAT_SANDBOX_PAY_FAULTS: a spec as JSON (empty: no faults)."""
    try:
        return Faults(json.loads(raw) if raw else None)
    except ValueError as exc:
        raise SystemExit(f"WECHAT_SANDBOX_PAY_FAULTS: {exc}") from exc
