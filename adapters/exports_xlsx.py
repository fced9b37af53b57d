"""The console's Excel exports (issue #11; seed 002: "Excel（保留计算公式）"): a day's orders
and payments as .xlsx, Chinese headers, times in China time, amounts in yuan, and the totals
as formulas (`=SUM(...)`, `=COUNTA(...)`, a payment's net `=E2-F2`), so the sheet still adds
up after staff edit or filter it.

Phones are the masked ones. Text that came from users is written as text: openpyxl makes a
value that starts with = a formula, and Excel would run one starting with = + - @ (formula
injection), so such cells are typed as strings with Excel's quote prefix (shown as typed,
never evaluated).
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from adapters.reconciliation import CHINA_OFFSET

STATUS = {
    "pending": "待接单",
    "accepted": "已接单",
    "departed": "已出发",
    "arrived": "已到达",
    "in_progress": "服务中",
    "completed": "已完成",
    "cancelled": "已取消",
    "expired": "已过期",
}
PAYMENT_STATUS = {
    "unpaid": "未支付",
    "paying": "支付中",
    "deposit_paid": "已付定金",
    "paid": "已支付",
    "refunding": "退款中",
    "refunded": "已退款",
}
PAYMENT_ROW_STATUS = {
    "open": "待支付",
    "paid": "已支付",
    "failed": "失败",
    "closed": "已关闭",
    "refunding": "退款中",
    "refunded": "已退款",
}
PAYMENT_KIND = {"deposit": "定金", "balance": "尾款", "full": "全款"}
MODE = {"grab": "抢单", "auto": "自动派单", "direct": "指定师傅"}
URGENCY = {"normal": "普通", "urgent": "加急", "emergency": "紧急"}

ORDER_HEADERS = [
    "订单号", "下单时间", "服务", "区域", "状态", "支付状态", "派单方式", "紧急程度",
    "联系人", "联系电话", "地址", "师傅", "预估金额（元）", "成交金额（元）",
]  # fmt: skip
PAYMENT_HEADERS = [
    "支付单号", "订单号", "类型", "状态", "支付金额（元）", "已退款（元）", "净额（元）",
    "支付时间", "微信支付单号",
]  # fmt: skip
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MONEY_FORMAT = "#,##0.00"
INJECTION = ("=", "+", "-", "@", "\t", "\r")


def china_time(at: datetime | None) -> datetime | None:
    return at + CHINA_OFFSET if at is not None else None


def yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def text(value) -> str:
    return "" if value is None else str(value)


BOLD = Font(bold=True)
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F2A3A")
CENTER = Alignment(horizontal="center")

# Write-only workbooks: rows stream out as they are appended (a 20,000-order day in about a
# second, where a normal workbook's per-cell styles took 8 s and ws.max_row in a loop minutes).


def _cell(ws, value, fmt: str | None = None, *, user: bool = False, bold: bool = False):
    cell = WriteOnlyCell(ws, value=value)
    if user:  # text that came from a user: a string, never a formula
        cell.data_type = "s"
        if str(value).startswith(INJECTION):
            cell.quotePrefix = True
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    return cell


def _sheet(wb: Workbook, title: str, headers: list[str], widths: list[int]):
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    row = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill, cell.alignment = HEAD_FONT, HEAD_FILL, CENTER
        row.append(cell)
    ws.append(row)
    return ws


def _total_row(ws, width: int, last: int, label_col: int, sums: list[int], count_col: int):
    """The totals under the rows (rows 2..last): the label, a count of rows and a SUM per
    amount column."""
    row: list = [None] * width
    row[label_col - 1] = _cell(ws, "合计", bold=True)
    col = get_column_letter(count_col)
    row[count_col - 1] = _cell(ws, f'=COUNTA({col}2:{col}{last})&" 笔"', bold=True)
    for c in sums:
        letter = get_column_letter(c)
        row[c - 1] = _cell(ws, f"=SUM({letter}2:{letter}{last})", MONEY_FORMAT, bold=True)
    ws.append(row)


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def orders_workbook(date: str, orders: list[dict]) -> bytes:
    wb = Workbook(write_only=True)
    widths = [24, 20, 16, 12, 9, 10, 10, 9, 12, 14, 36, 12, 14, 14]
    ws = _sheet(wb, f"订单 {date}", ORDER_HEADERS, widths)
    for o in orders:
        ws.append(
            [
                _cell(ws, text(o["order_no"]), user=True),
                _cell(ws, china_time(o["created_at"]), TIME_FORMAT),
                _cell(ws, text(o["service_name"]), user=True),
                _cell(ws, text(o["area_name"]), user=True),
                STATUS.get(o["status"], o["status"]),
                PAYMENT_STATUS.get(o["payment_status"], o["payment_status"]),
                MODE.get(o["dispatch_mode"], o["dispatch_mode"]),
                URGENCY.get(o["urgency"], o["urgency"]),
                _cell(ws, text(o["contact_name"]), user=True),
                _cell(ws, text(o["contact_phone_masked"]), user=True),
                _cell(ws, text(f"{o['district'] or ''}{o['address']}"), user=True),
                _cell(ws, text(o["provider_name"]), user=True),
                _cell(ws, yuan(o["estimated_amount"]), MONEY_FORMAT),
                _cell(ws, yuan(o["final_amount"]), MONEY_FORMAT),
            ]
        )
    last = max(len(orders) + 1, 2)
    _total_row(ws, len(ORDER_HEADERS), last, label_col=12, sums=[13, 14], count_col=1)
    return _bytes(wb)


def payments_workbook(date: str, payments: list[dict]) -> bytes:
    wb = Workbook(write_only=True)
    widths = [24, 24, 8, 9, 14, 14, 14, 20, 32]
    ws = _sheet(wb, f"支付 {date}", PAYMENT_HEADERS, widths)
    for r, p in enumerate(payments, start=2):
        ws.append(
            [
                _cell(ws, text(p["payment_no"]), user=True),
                _cell(ws, text(p["order_no"]), user=True),
                PAYMENT_KIND.get(p["kind"], p["kind"]),
                PAYMENT_ROW_STATUS.get(p["status"], p["status"]),
                _cell(ws, yuan(p["amount"]), MONEY_FORMAT),
                _cell(ws, yuan(int(p["refunded"])), MONEY_FORMAT),
                _cell(ws, f"=E{r}-F{r}", MONEY_FORMAT),
                _cell(ws, china_time(p["paid_at"]), TIME_FORMAT),
                _cell(ws, text(p["transaction_id"]), user=True),
            ]
        )
    last = max(len(payments) + 1, 2)
    _total_row(ws, len(PAYMENT_HEADERS), last, label_col=4, sums=[5, 6, 7], count_col=1)
    return _bytes(wb)


COUPON_HEADERS = [
    "编号", "名称", "优惠", "状态", "库存", "已发放", "自领", "已使用", "已过期", "成本（元）",
    "使用率",
]  # fmt: skip
COUPON_STATUS = {"active": "发放中", "paused": "已暂停", "ended": "已结束"}
PERCENT_FORMAT = "0.0%"


def coupon_terms(t: dict) -> str:
    """满 100 减 20, 无门槛减 5, or 8 折（最高减 30）: what the template gives."""
    if t["kind"] == "threshold":
        off = f"{t['amountOff'] / 100:g}"
        return f"满 {t['threshold'] / 100:g} 减 {off}" if t.get("threshold") else f"无门槛减 {off}"
    rate = f"{(100 - t['percentOff']) / 10:g} 折"
    return f"{rate}（最高减 {t['maxOff'] / 100:g}）" if t.get("maxOff") else rate


def coupons_workbook(at: str, templates: list[dict]) -> bytes:
    """Every coupon template (as GET /api/admin/coupons answers) with issued, claimed, used,
    expired and cost; each row's use rate and the totals (a grand use rate too) as formulas."""
    wb = Workbook(write_only=True)
    widths = [8, 24, 20, 9, 8, 9, 8, 9, 9, 12, 9]
    ws = _sheet(wb, f"优惠券 {at}", COUPON_HEADERS, widths)
    for r, t in enumerate(templates, start=2):
        ws.append(
            [
                t["id"],
                _cell(ws, text(t["name"]), user=True),
                coupon_terms(t),
                COUPON_STATUS.get(t["status"], t["status"]),
                t["stock"],
                t["issued"],
                t["claimed"],
                t["used"],
                t["expired"],
                _cell(ws, yuan(t["cost"]), MONEY_FORMAT),
                _cell(ws, f'=IF(F{r}=0,"",H{r}/F{r})', PERCENT_FORMAT),
            ]
        )
    last = max(len(templates) + 1, 2)
    total = [None] * len(COUPON_HEADERS)
    total[1] = _cell(ws, "合计", bold=True)
    total[2] = _cell(ws, f'=COUNTA(B2:B{last})&" 种"', bold=True)
    for c in range(5, 11):
        letter = get_column_letter(c)
        fmt = MONEY_FORMAT if c == 10 else None
        total[c - 1] = _cell(ws, f"=SUM({letter}2:{letter}{last})", fmt, bold=True)
    t = last + 1
    total[10] = _cell(ws, f'=IF(F{t}=0,"",H{t}/F{t})', PERCENT_FORMAT, bold=True)
    ws.append(total)
    return _bytes(wb)
