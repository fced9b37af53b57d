"""The WeChat Pay sandbox's books: trades (one per out_trade_no) and their refunds, in memory.

Every method is synchronous: the sandbox runs on one event loop, so a check and the change it
allows can never interleave with another request's (no await between them). That is what keeps
"refunds never exceed the paid total" and "one prepay per out_trade_no" true under concurrency.

Field names, states and JSON shapes are WeChat Pay API v3's (direct merchant, JSAPI).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sandbox.pay_crypto import PayError

CHINA = timezone(timedelta(hours=8))
PREPAY_TTL_S = 2 * 3600  # a prepay_id lives two hours
STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "PAYERROR": "支付失败，余额不足",
    "REFUND": "订单发生退款",
}
PAID = ("SUCCESS", "REFUND")


def rfc3339(ts: float) -> str:
    """WeChat's times: seconds, +08:00 (e.g. 2018-06-08T10:34:56+08:00)."""
    return datetime.fromtimestamp(int(ts), CHINA).isoformat()


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, CHINA).strftime("%Y%m%d")


class Refused(Exception):
    """The cashier cannot take this payment (unknown or expired prepay, already paid …)."""


@dataclass
class Refund:
    refund_id: str
    out_refund_no: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    reason: str | None
    notify_url: str | None
    created: float
    status: str = "PROCESSING"
    success_time: float | None = None

    def json(self) -> dict:
        body = {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": rfc3339(self.created),
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.total,
                "refund": self.refund,
                "from": [],
                "payer_total": self.total,
                "payer_refund": self.refund,
                "settlement_refund": self.refund,
                "settlement_total": self.total,
                "discount_refund": 0,
                "currency": "CNY",
                "refund_fee": 0,
            },
            "promotion_detail": [],
        }
        if self.success_time is not None:
            body["success_time"] = rfc3339(self.success_time)
        return body

    def notification(self, mchid: str) -> dict:
        """The decrypted resource of its REFUND.SUCCESS notification."""
        return {
            "mchid": mchid,
            "out_trade_no": self.out_trade_no,
            "transaction_id": self.transaction_id,
            "out_refund_no": self.out_refund_no,
            "refund_id": self.refund_id,
            "refund_status": self.status,
            "success_time": rfc3339(self.success_time or self.created),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": self.total,
                "refund": self.refund,
                "payer_total": self.total,
                "payer_refund": self.refund,
            },
        }


@dataclass
class Trade:
    out_trade_no: str
    appid: str
    mchid: str
    description: str
    notify_url: str
    total: int
    openid: str
    attach: str | None
    time_expire: float | None
    request: dict  # the prepay body: asking again with the same one is idempotent
    prepay_id: str
    prepay_issued: float
    created: float
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: float | None = None
    refunded: int = 0
    refunds: list[str] = field(default_factory=list)

    @property
    def prepay_expires(self) -> float:
        end = self.prepay_issued + PREPAY_TTL_S
        return end if self.time_expire is None else min(end, self.time_expire)

    def json(self) -> dict:
        """What the query answers and what TRANSACTION.SUCCESS carries (decrypted)."""
        body: dict = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_state": self.state,
            "trade_state_desc": STATE_DESC[self.state],
            "amount": {"total": self.total, "payer_currency": "CNY"},
            "payer": {},
            "promotion_detail": [],
        }
        if self.attach is not None:
            body["attach"] = self.attach
        if self.transaction_id:
            body.update(transaction_id=self.transaction_id, trade_type="JSAPI", bank_type="OTHERS")
            body["payer"] = {"openid": self.openid}
            body["amount"] = {
                "total": self.total,
                "payer_total": self.total,
                "currency": "CNY",
                "payer_currency": "CNY",
            }
        if self.success_time is not None and self.state in PAID:
            body["success_time"] = rfc3339(self.success_time)
        return body


class Ledger:
    def __init__(self, appid: str, mchid: str) -> None:
        self.appid = appid
        self.mchid = mchid
        self.trades: dict[str, Trade] = {}
        self.refunds: dict[str, Refund] = {}
        self._by_prepay: dict[str, Trade] = {}
        self._by_transaction: dict[str, Trade] = {}

    # --- payments ------------------------------------------------------------------------------

    def prepay(self, body: dict, time_expire: float | None, now: float) -> Trade:
        """The trade for this prepay body: the existing one when the body is the same."""
        trade = self.trades.get(body["out_trade_no"])
        if trade is not None:
            if trade.state in PAID:
                raise PayError(400, "ORDERPAID", "该订单已支付")
            if trade.state == "CLOSED":
                raise PayError(400, "ORDER_CLOSED", "订单已关闭，请重新下单")
            if trade.request != body:
                raise PayError(
                    400, "INVALID_REQUEST", "商户订单号重复，且与之前请求的参数不一致，请核实后再试"
                )
            if trade.prepay_issued + PREPAY_TTL_S <= now and (
                trade.time_expire is None or trade.time_expire > now
            ):
                self._issue_prepay(trade, now)  # the same parameters again: a fresh prepay_id
            return trade
        trade = Trade(
            out_trade_no=body["out_trade_no"],
            appid=body["appid"],
            mchid=body["mchid"],
            description=body["description"],
            notify_url=body["notify_url"],
            total=body["amount"]["total"],
            openid=body["payer"]["openid"],
            attach=body.get("attach"),
            time_expire=time_expire,
            request=body,
            prepay_id="",
            prepay_issued=now,
            created=now,
        )
        self._issue_prepay(trade, now)
        self.trades[trade.out_trade_no] = trade
        return trade

    def _issue_prepay(self, trade: Trade, now: float) -> None:
        trade.prepay_id = "wx" + datetime.fromtimestamp(now, CHINA).strftime("%d%H%M%S")
        trade.prepay_id += secrets.token_hex(12) + _digits(4)
        trade.prepay_issued = now
        self._by_prepay[trade.prepay_id] = trade

    def trade(self, out_trade_no: str) -> Trade:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return trade

    def by_prepay(self, prepay_id: str) -> Trade | None:
        return self._by_prepay.get(prepay_id)

    def trade_by_transaction(self, transaction_id: str) -> Trade:
        trade = self._by_transaction.get(transaction_id)
        if trade is None:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return trade

    def close(self, out_trade_no: str) -> Trade:
        trade = self.trade(out_trade_no)
        if trade.state in PAID:
            raise PayError(400, "ORDERPAID", "订单已支付，不能发起关单，请当作已支付的正常交易")
        trade.state = "CLOSED"
        return trade

    def pay(self, prepay_id: str, app_id: str, outcome: str, now: float) -> Trade:
        """The cashier's outcome on a prepay: success, fail (PAYERROR) or cancel (nothing)."""
        trade = self._by_prepay.get(prepay_id)
        if trade is None:
            raise Refused("prepay_id 不存在")
        if trade.prepay_id != prepay_id:
            raise Refused("prepay_id 已失效，请使用最新的 prepay_id")
        if app_id != trade.appid:
            raise Refused("appId 与下单时的 appid 不一致")
        if trade.state in PAID:
            raise Refused("该订单已支付")
        if trade.state == "CLOSED":
            raise Refused("订单已关闭")
        if trade.prepay_expires <= now:
            raise Refused("prepay_id 已过期")
        if outcome == "cancel":
            return trade
        if trade.transaction_id is None:
            trade.transaction_id = "42000" + _digits(5) + _day(now) + _digits(10)
            self._by_transaction[trade.transaction_id] = trade
        if outcome == "success":
            trade.state, trade.success_time = "SUCCESS", now
        else:
            trade.state = "PAYERROR"
        return trade

    # --- refunds -------------------------------------------------------------------------------

    def refund(self, body: dict, now: float) -> tuple[Refund, bool]:
        """(the refund, made now?): the same out_refund_no with the same content is one refund."""
        if body.get("transaction_id"):
            trade = self._by_transaction.get(body["transaction_id"])
        else:
            trade = self.trades.get(body.get("out_trade_no") or "")
        if trade is None or trade.state not in PAID:
            raise PayError(
                404, "RESOURCE_NOT_EXISTS", "订单不存在，请检查订单号是否正确且是否已支付"
            )
        amount = body["amount"]
        refund, total = amount["refund"], amount["total"]
        mismatch = PayError(
            400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试"
        )
        existing = self.refunds.get(body["out_refund_no"])
        if existing is not None:
            if (existing.out_trade_no, existing.refund, existing.total) != (
                trade.out_trade_no,
                refund,
                total,
            ):
                raise mismatch
            return existing, False
        if total != trade.total:
            raise mismatch
        available = trade.total - trade.refunded
        if available <= 0:
            raise PayError(400, "INVALID_REQUEST", "订单已全额退款")
        if refund > available:
            raise PayError(
                400, "INVALID_REQUEST", f"申请退款金额超过订单可退金额（可退 {available} 分）"
            )
        made = Refund(
            refund_id="50" + _digits(5) + _day(now) + _digits(14),
            out_refund_no=body["out_refund_no"],
            out_trade_no=trade.out_trade_no,
            transaction_id=trade.transaction_id or "",
            refund=refund,
            total=total,
            reason=body.get("reason"),
            notify_url=body.get("notify_url"),
            created=now,
        )
        self.refunds[made.out_refund_no] = made
        trade.refunds.append(made.out_refund_no)
        trade.refunded += refund
        trade.state = "REFUND"
        return made, True

    def refund_by_no(self, out_refund_no: str) -> Refund:
        refund = self.refunds.get(out_refund_no)
        if refund is None:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return refund

    def finish_refund(self, out_refund_no: str, now: float) -> Refund:
        refund = self.refunds[out_refund_no]
        refund.status, refund.success_time = "SUCCESS", now
        return refund

    # --- for the sandbox's own pages -----------------------------------------------------------

    def overview(self) -> list[dict]:
        return [
            {
                **trade.json(),
                "description": trade.description,
                "notify_url": trade.notify_url,
                "prepay_id": trade.prepay_id,
                "prepay_expires": rfc3339(trade.prepay_expires),
                "create_time": rfc3339(trade.created),
                "refunds": [self.refunds[no].json() for no in trade.refunds],
            }
            for trade in self.trades.values()
        ]
