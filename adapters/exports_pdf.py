"""The daily report as PDF (issue #11; seed 002: 日报, PDF with a watermark): the dashboard's
figures of a China day (adapters/dashboard.day_summary) on an A4 page, in Chinese.

The font: WenQuanYi Micro Hei (`fonts-wqy-microhei`, which scripts/ensure_services.sh installs
for the console's browser tests too), embedded as a subset. Embedded, the report reads the
same in every viewer and its text can be searched and copied (a ToUnicode map comes with
it). HUB_PDF_FONT names another TrueType font (.ttf / .ttc). With neither, reportlab's
built-in CID font STSong-Light is used: nothing to install, but it is not embedded, so a
viewer without Adobe's Chinese font pack substitutes or shows nothing — hence only the fallback.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from adapters.exports_xlsx import STATUS
from adapters.reconciliation import CHINA_OFFSET

FONT_ENV = "HUB_PDF_FONT"
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FONT_NAME = "OrderhubCJK"
TITLE = "orderhub 运营日报"
WATERMARK = "orderhub 内部资料"
_font: str | None = None


def font() -> str:
    """The registered font's name: an embedded TrueType CJK font, else STSong-Light."""
    global _font
    if _font is None:
        chosen = [os.environ.get(FONT_ENV, "").strip(), *FONT_FILES]
        path = next((p for p in chosen if p and Path(p).is_file()), None)
        if path:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
            _font = FONT_NAME
        else:
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            _font = "STSong-Light"
    return _font


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60} 分 {s % 60} 秒"
    return f"{s // 3600} 小时 {s % 3600 // 60} 分"


def _table(rows: list[list], widths: list[float], name: str, header: bool = True) -> Table:
    t = Table(rows, colWidths=widths, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), name, 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c9d0da")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f2a3a")),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ]
    t.setStyle(TableStyle(style))
    return t


def daily_report(date: str, d: dict) -> bytes:
    """The PDF of the day `date` from its dashboard figures `d` (day_summary's answer)."""
    name = font()
    h1 = ParagraphStyle("h1", fontName=name, fontSize=18, leading=24, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=name, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    small = ParagraphStyle("small", fontName=name, fontSize=8.5, leading=12, textColor="#6b7380")
    made = (datetime.now(UTC).replace(tzinfo=None) + CHINA_OFFSET).strftime("%Y-%m-%d %H:%M")
    o, r, p, t, a = d["orders"], d["revenue"], d["providers"], d["times"], d["acceptance"]
    rate = "—" if a["ratePct"] is None else f"{a['ratePct']}%"
    half = (A4[0] - 36 * mm) / 2

    money = [
        ["收入", "金额"],
        [f"已支付（{r['paidCount']} 笔）", yuan(r["paid"])],
        [f"已退款（{r['refundCount']} 笔）", yuan(r["refunded"])],
        ["平台服务费（扣除退款冲回）", yuan(r["platformFee"])],
        ["净收款", yuan(r["net"])],
    ]
    crew = [
        ["师傅与时效", ""],
        ["在线师傅（空闲 / 服务中）", f"{p['active']}（{p['online']} / {p['busy']}）"],
        ["当日接单师傅", p["tookOrders"]],
        [f"接单率（{a['accepted']} / {a['decided']}）", rate],
        [f"平均接单用时（{t['acceptCount']} 单）", duration(t["acceptAvgS"])],
        [f"平均到达用时（{t['arriveCount']} 单）", duration(t["arriveAvgS"])],
        [f"平均完成用时（{t['completeCount']} 单）", duration(t["completeAvgS"])],
    ]
    statuses = [
        ["下单总数", *STATUS.values()],
        [o["total"], *(o["byStatus"].get(k, 0) for k in STATUS)],
    ]
    side = [half * 0.62, half * 0.33]
    story = [
        Paragraph(f"{TITLE} {date}", h1),
        Paragraph(f"统计日：{date}（北京时间）　生成于 {made}　金额单位：元", small),
        Paragraph("订单", h2),
        _table(statuses, [20 * mm] + [19 * mm] * len(STATUS), name),
        Paragraph("收入与师傅", h2),
        Table(
            [[_table(money, side, name), _table(crew, side, name)]],
            colWidths=[half, half],
            hAlign="LEFT",
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
        ),
        Paragraph("分时段（下单数 / 支付金额）", h2),
    ]
    for part in (d["byHour"][:12], d["byHour"][12:]):
        story.append(
            _table(
                [
                    ["时段", *[f"{h['hour']}时" for h in part]],
                    ["下单", *[h["orders"] for h in part]],
                    ["支付", *[f"{h['paid'] / 100:.0f}" for h in part]],
                ],
                [14 * mm] + [13.2 * mm] * len(part),
                name,
            )
        )
        story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(f"近 {len(d['byDay'])} 天", h2))
    story.append(
        _table(
            [["日期", "下单", "完工", "支付金额"]]
            + [[x["date"], x["orders"], x["completed"], yuan(x["paid"])] for x in d["byDay"]],
            [36 * mm, 24 * mm, 24 * mm, 36 * mm],
            name,
        )
    )

    def page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(name, 40)
        canvas.setFillColor(colors.Color(0.6, 0.65, 0.72, alpha=0.12))
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, WATERMARK)
        canvas.restoreState()
        canvas.setFont(name, 8)
        canvas.setFillColor(colors.HexColor("#6b7380"))
        canvas.drawString(18 * mm, 10 * mm, f"{TITLE} {date}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"{TITLE} {date}", author="orderhub",
    )  # fmt: skip
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return out.getvalue()
