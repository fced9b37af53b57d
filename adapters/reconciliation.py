"""The daily reconciliation (CONTRACT §9): WeChat Pay's trade bill against the hub's books.

Pure: `parse_bill` reads the bill WeChat Pay v3 serves (GET /v3/bill/tradebill, then its
download_url), `compare` lists every difference. The layout, as WeChat documents it:

    交易时间,公众账号ID,商户号,…,商户订单号,…,交易状态,…,应结订单金额,…,商户退款单号,退款金额,…
    `2025-01-31 10:00:00,`wx…,`1900…,…,`OH12F…,…,`SUCCESS,…,`0.01,…
    总交易单数,应结订单总金额,退款总金额,…
    `1,`0.01,`0.00,…

a header line, one line per payment and per refund whose every field starts with a backtick,
then the summary's header and line. Amounts are yuan with two decimals. Columns are found by
name, not position; a line is a refund when it has a 商户退款单号 (or its 交易状态 is REFUND).
A payment's amount is its 订单金额 (else 应结订单金额), a refund's its 申请退款金额 (else
退款金额): what the merchant asked for, as the hub records it.

A bill's day is China's (UTC+8): 2025-01-31 is [2025-01-30 16:00, 2025-01-31 16:00) UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

CHINA_OFFSET = timedelta(hours=8)
SUMMARY_FIRST = "总交易单数"


class BillError(ValueError):
    """The bill is not in WeChat's layout, or is cut short."""


@dataclass(frozen=True)
class BillLine:
    kind: str  # "payment" | "refund"
    out_trade_no: str
    amount: int  # fen
    out_refund_no: str | None = None
    state: str = ""
    at: str = ""


@dataclass
class Bill:
    lines: list[BillLine] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)


def china_day(date: str) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC of the China day `date` (YYYY-MM-DD); ValueError if bad."""
    day = datetime.strptime(date, "%Y-%m-%d")
    return day - CHINA_OFFSET, day + timedelta(days=1) - CHINA_OFFSET


def fen(text: str) -> int:
    """Yuan as WeChat writes them ("12.34", "0.01", "¥5") → fen."""
    cleaned = text.strip().lstrip("¥￥").replace(",", "") or "0"
    try:
        value = Decimal(cleaned) * 100
    except InvalidOperation:
        raise BillError(f"not an amount: {text!r}") from None
    if value != value.to_integral_value():
        raise BillError(f"more than two decimals: {text!r}")
    return int(value)


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw.lstrip("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # older bills and spreadsheet round trips


def _fields(line: str, number: int) -> list[str]:
    """A data line's fields: each starts with a backtick, so ",`" separates them (a comma
    inside a product name does not)."""
    if not line.startswith("`"):
        raise BillError(f"line {number}: a field without its leading backtick: {line[:60]!r}")
    return [f.strip().strip('"') for f in line[1:].split(",`")]


def _pick(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name, "").strip():
            return row[name].strip()
    return ""


def _line(row: dict[str, str]) -> BillLine:
    out_trade_no = row["商户订单号"]
    if not out_trade_no:
        raise BillError(f"a line without 商户订单号: {row}")
    state = row.get("交易状态", "")
    refund_no = row.get("商户退款单号", "")
    if refund_no not in ("", "0") or state == "REFUND":
        amount = fen(_pick(row, "申请退款金额", "退款金额"))
        return BillLine("refund", out_trade_no, amount, refund_no or None, state, row["交易时间"])
    amount = fen(_pick(row, "订单金额", "应结订单金额"))
    return BillLine("payment", out_trade_no, amount, None, state, row["交易时间"])


def parse_bill(raw: bytes | str) -> Bill:
    """The lines and summary of a trade bill; an empty file is an empty bill."""
    lines = [ln.strip() for ln in _decode(raw).splitlines()]
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln]
    if not numbered:
        return Bill()
    start = next((k for k, (_, ln) in enumerate(numbered) if "商户订单号" in ln), None)
    if start is None or numbered[start][1].startswith("`"):
        raise BillError("no header line naming 商户订单号")
    header = [h.strip().lstrip("\ufeff") for h in numbered[start][1].split(",")]
    for needed in ("交易时间", "商户订单号"):
        if needed not in header:
            raise BillError(f"the header has no {needed}")
    bill = Bill()
    rest = numbered[start + 1 :]
    for k, (number, ln) in enumerate(rest):
        if ln.startswith(SUMMARY_FIRST):
            bill.summary = _summary(ln, rest[k + 1 :])
            break
        values = _fields(ln, number)
        if len(values) != len(header):
            raise BillError(f"line {number}: {len(values)} fields, the header has {len(header)}")
        bill.lines.append(_line(dict(zip(header, values, strict=True))))
    else:
        raise BillError("the bill ends before its summary (cut short?)")
    counted = bill.summary.get(SUMMARY_FIRST, "")
    if counted.isdigit() and int(counted) != len(bill.lines):
        raise BillError(f"the summary counts {counted} lines, the bill has {len(bill.lines)}")
    return bill


def _summary(header_line: str, after: list[tuple[int, str]]) -> dict[str, str]:
    names = [h.strip() for h in header_line.split(",")]
    if not after:
        raise BillError("the summary header has no line after it")
    number, ln = after[0]
    values = _fields(ln, number)
    if len(values) != len(names):
        raise BillError(f"line {number}: the summary has {len(values)} of {len(names)} fields")
    return dict(zip(names, values, strict=True))


# --- comparing -------------------------------------------------------------------------------


def _sums(pairs) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, amount in pairs:
        out[key] = out.get(key, 0) + amount  # a key twice adds up: a double shows as a difference
    return out


def _differences(kind: str, hub: dict, wechat: dict, trade_of: dict) -> list[dict]:
    out = []
    for key in sorted(hub.keys() | wechat.keys()):
        h, w = hub.get(key), wechat.get(key)
        if h == w:
            continue
        what = "missing_in_hub" if h is None else "missing_in_wechat" if w is None else None
        out.append(
            {
                "type": kind,
                "outTradeNo": trade_of.get(key, key),
                "outRefundNo": key if kind == "refund" else None,
                "kind": what or "amount_differs",
                "hub": h,
                "wechat": w,
            }
        )
    return out


def compare(
    date: str, payments: list[dict], refunds: list[dict], bill: Bill, has_bill: bool = True
) -> dict:
    """The hub's payments paid on `date` (payments rows) and refunds asked that day (refunds
    rows with their payment's out_trade_no) against the day's bill. Every difference is a
    mismatch: missing_in_hub, missing_in_wechat or amount_differs (amounts in fen)."""
    hub_paid = _sums((p["out_trade_no"], p["amount"]) for p in payments)
    hub_back = _sums((r["out_refund_no"], r["amount"]) for r in refunds)
    paid_lines = [ln for ln in bill.lines if ln.kind == "payment"]
    back_lines = [ln for ln in bill.lines if ln.kind == "refund"]
    wx_paid = _sums((ln.out_trade_no, ln.amount) for ln in paid_lines)
    wx_back = _sums((ln.out_refund_no or ln.out_trade_no, ln.amount) for ln in back_lines)
    trade_of = {r["out_refund_no"]: r["out_trade_no"] for r in refunds}
    trade_of.update({ln.out_refund_no: ln.out_trade_no for ln in back_lines if ln.out_refund_no})
    return {
        "date": date,
        "wechatBill": has_bill,
        "hubCount": len(payments),
        "wechatCount": len(paid_lines),
        "hubTotal": sum(hub_paid.values()),
        "wechatTotal": sum(wx_paid.values()),
        "hubRefundCount": len(refunds),
        "wechatRefundCount": len(back_lines),
        "hubRefundTotal": sum(hub_back.values()),
        "wechatRefundTotal": sum(wx_back.values()),
        "mismatches": [
            *_differences("payment", hub_paid, wx_paid, {}),
            *_differences("refund", hub_back, wx_back, trade_of),
        ],
    }
