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


def _sheet(wb: Workbook, title: str, headers: list[str], widths: list[int]):
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F2A3A")
        cell.alignment = Alignment(horizontal="center")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return ws


def _strings(ws, row: int, columns: list[int]) -> None:
    """The user-text cells of a row: strings, never formulas."""
    for col in columns:
        cell = ws.cell(row=row, column=col)
        cell.data_type = "s"
        if str(cell.value).startswith(INJECTION):
            cell.quotePrefix = True


def _total_row(ws, first: int, last: int, label_col: int, sums: list[int], count_col: int):
    """The totals under the rows: the label, a count of rows and a SUM per amount column."""
    row = last + 1
    ws.cell(row=row, column=label_col, value="合计").font = Font(bold=True)
    col = get_column_letter(count_col)
    counted = ws.cell(row=row, column=count_col, value=f'=COUNTA({col}{first}:{col}{last})&" 笔"')
    counted.font = Font(bold=True)
    for c in sums:
        letter = get_column_letter(c)
        cell = ws.cell(row=row, column=c, value=f"=SUM({letter}{first}:{letter}{last})")
        cell.number_format = MONEY_FORMAT
        cell.font = Font(bold=True)
    return row


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def orders_workbook(date: str, orders: list[dict]) -> bytes:
    wb = Workbook()
    widths = [24, 20, 16, 12, 9, 10, 10, 9, 12, 14, 36, 12, 14, 14]
    ws = _sheet(wb, f"订单 {date}", ORDER_HEADERS, widths)
    for o in orders:
        ws.append(
            [
                text(o["order_no"]),
                china_time(o["created_at"]),
                text(o["service_name"]),
                text(o["area_name"] or ""),
                STATUS.get(o["status"], o["status"]),
                PAYMENT_STATUS.get(o["payment_status"], o["payment_status"]),
                MODE.get(o["dispatch_mode"], o["dispatch_mode"]),
                URGENCY.get(o["urgency"], o["urgency"]),
                text(o["contact_name"]),
                text(o["contact_phone_masked"]),
                text(f"{o['district'] or ''}{o['address']}"),
                text(o["provider_name"] or ""),
                yuan(o["estimated_amount"]),
                yuan(o["final_amount"]),
            ]
        )
        r = ws.max_row
        _strings(ws, r, [1, 3, 4, 9, 10, 11, 12])
        ws.cell(row=r, column=2).number_format = TIME_FORMAT
        for c in (13, 14):
            ws.cell(row=r, column=c).number_format = MONEY_FORMAT
    last = ws.max_row
    _total_row(ws, 2, max(last, 2), label_col=12, sums=[13, 14], count_col=1)
    return _bytes(wb)


def payments_workbook(date: str, payments: list[dict]) -> bytes:
    wb = Workbook()
    widths = [24, 24, 8, 9, 14, 14, 14, 20, 32]
    ws = _sheet(wb, f"支付 {date}", PAYMENT_HEADERS, widths)
    for p in payments:
        r = ws.max_row + 1
        ws.append(
            [
                text(p["payment_no"]),
                text(p["order_no"]),
                PAYMENT_KIND.get(p["kind"], p["kind"]),
                PAYMENT_ROW_STATUS.get(p["status"], p["status"]),
                yuan(p["amount"]),
                yuan(int(p["refunded"])),
                f"=E{r}-F{r}",
                china_time(p["paid_at"]),
                text(p["transaction_id"] or ""),
            ]
        )
        _strings(ws, r, [1, 2, 9])
        for c in (5, 6, 7):
            ws.cell(row=r, column=c).number_format = MONEY_FORMAT
        ws.cell(row=r, column=8).number_format = TIME_FORMAT
    last = ws.max_row
    _total_row(ws, 2, max(last, 2), label_col=4, sums=[5, 6, 7], count_col=1)
    return _bytes(wb)
