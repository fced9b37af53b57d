"""The trade bill: GET /v3/bill/tradebill and the file behind its download_url.

The file is WeChat's CSV layout: a header line, one line per payment (and per refund) with every
field prefixed by a backtick, then the two summary lines. Amounts in yuan. `hash_value` is the
SHA1 of the file before compression; with tar_type=GZIP the download is gzipped. A download_url
lives 30 seconds. The bill of a day holds the payments that succeeded that day (China time) and
the refunds applied for that day; bill faults (pay_faults.py) leave trades out, change their
amounts, or add trades the books never had.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import time
from datetime import datetime

from sandbox.pay_crypto import PayError, param_error
from sandbox.pay_faults import Faults
from sandbox.pay_ledger import CHINA, PAID, Ledger, Refund, Trade

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)
SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
FEE_RATE = 0.006  # 0.60%, the usual rate for mini programs
TOKEN_TTL_S = 30
BILL_TYPES = ("ALL", "SUCCESS", "REFUND")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _fee(fen: int) -> float:
    return round(fen * FEE_RATE / 100, 5)


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, CHINA)


def _line(fields: list[str]) -> str:
    return ",".join("`" + f for f in fields)


class Bills:
    def __init__(self, ledger: Ledger, faults: Faults) -> None:
        self.ledger = ledger
        self.faults = faults
        self._files: dict[str, tuple[bytes, float]] = {}  # token -> (file, expires)

    @staticmethod
    def _row(trade: Trade, amount: int, refund: Refund | None = None) -> tuple[list[str], dict]:
        """A payment line (refund None; `amount` as billed) or a refund line, and its sums."""
        paid = 0 if refund else amount
        back = refund.refund if refund else 0
        fee = _fee(paid) - _fee(back)
        when = refund.created if refund else (trade.success_time or trade.created)
        fields = [
            _local(when).strftime("%Y-%m-%d %H:%M:%S"),
            trade.appid,
            trade.mchid,
            "0",  # 特约商户号: 0 for a direct merchant
            "",
            trade.transaction_id or "",
            trade.out_trade_no,
            trade.openid,
            "JSAPI",
            "REFUND" if refund else "SUCCESS",
            "OTHERS",
            "CNY",
            yuan(paid),
            "0.00",
            refund.refund_id if refund else "0",
            refund.out_refund_no if refund else "0",
            yuan(back),
            "0.00",
            "ORIGINAL" if refund else "",
            refund.status if refund else "",
            trade.description,
            trade.attach or "",
            f"{fee:.5f}",
            "0.60%",
            yuan(paid),
            yuan(back),
            "",
        ]
        return fields, {"settle": paid, "refund": back, "fee": fee, "order": paid, "applied": back}

    def _extra(self, entry: dict) -> tuple[list[str], dict]:
        digest = int(hashlib.sha1(entry["out_trade_no"].encode()).hexdigest(), 16)
        ghost = Trade(
            out_trade_no=entry["out_trade_no"],
            appid=self.ledger.appid,
            mchid=self.ledger.mchid,
            description="sandbox: a trade the books never had",
            notify_url="",
            total=entry["amount"],
            openid="o-sandbox-unknown-payer",
            attach=None,
            time_expire=None,
            request={},
            prepay_id="",
            prepay_issued=0,
            created=time.time(),
            transaction_id="42000" + str(digest)[:23],
        )
        return self._row(ghost, entry["amount"])

    def render(self, date: str, bill_type: str) -> str | None:
        """The bill of `date` (YYYY-MM-DD, China time), or None when it has no line."""
        rows: list[tuple[list[str], dict]] = []
        for trade in list(self.ledger.trades.values()):
            paid_today = trade.state in PAID and trade.success_time is not None
            if paid_today and _local(trade.success_time).strftime("%Y-%m-%d") == date:
                omitted = self.faults.get("bill_omit", trade.out_trade_no) is not None
                if bill_type in ("ALL", "SUCCESS") and not omitted:
                    changed = self.faults.get("bill_amount", trade.out_trade_no)
                    amount = trade.total
                    if changed is not None:
                        amount = trade.total + 1 if changed["amount"] is None else changed["amount"]
                    rows.append(self._row(trade, int(amount)))
            if bill_type in ("ALL", "REFUND"):
                for no in trade.refunds:
                    refund = self.ledger.refunds[no]
                    if _local(refund.created).strftime("%Y-%m-%d") == date:
                        rows.append(self._row(trade, 0, refund))
        if bill_type in ("ALL", "SUCCESS"):
            today = _local(time.time()).strftime("%Y-%m-%d")
            for entry in self.faults.bill_extra:
                if entry.get("date", today) == date:
                    rows.append(self._extra(entry))
        if not rows:
            return None
        rows.sort(key=lambda row: row[0][0])
        total = {k: sum(sums[k] for _, sums in rows) for k in rows[0][1]}
        summary = [
            str(len(rows)),
            yuan(total["settle"]),
            yuan(total["refund"]),
            "0.00",
            f"{total['fee']:.5f}",
            yuan(total["order"]),
            yuan(total["applied"]),
        ]
        lines = [HEADER, *(_line(fields) for fields, _ in rows), SUMMARY_HEADER, _line(summary)]
        return "\r\n".join(lines) + "\r\n"

    def apply(self, query, base_url: str) -> dict:
        """GET /v3/bill/tradebill: {hash_type, hash_value, download_url}."""
        date, bill_type = query.get("bill_date", ""), query.get("bill_type", "ALL")
        tar_type = query.get("tar_type")
        if not _DATE.fullmatch(date):
            raise param_error("bill_date", "格式应为 YYYY-MM-DD", "query")
        try:
            day = datetime.strptime(date, "%Y-%m-%d").date()
        except ValueError:
            raise param_error("bill_date", "不是有效日期", "query") from None
        if day > _local(time.time()).date():
            raise PayError(400, "INVALID_REQUEST", "账单日期不能晚于今天")
        if bill_type not in BILL_TYPES:
            raise param_error("bill_type", "应为 ALL、SUCCESS 或 REFUND", "query")
        if tar_type not in (None, "GZIP"):
            raise param_error("tar_type", "应为 GZIP", "query")
        text = self.render(date, bill_type)
        if text is None:
            raise PayError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        raw = text.encode()
        now = time.time()
        self._files = {t: f for t, f in self._files.items() if f[1] > now}
        token = secrets.token_urlsafe(48)
        self._files[token] = (gzip.compress(raw) if tar_type else raw, now + TOKEN_TTL_S)
        return {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(raw).hexdigest(),
            "download_url": f"{base_url.rstrip('/')}/v3/billdownload/file?token={token}",
        }

    def download(self, token: str) -> bytes:
        found = self._files.get(token)
        if found is None or found[1] <= time.time():
            raise PayError(400, "INVALID_REQUEST", "账单下载链接已失效，请重新申请账单")
        return found[0]
