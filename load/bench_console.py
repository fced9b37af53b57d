"""Times the console's dashboard, order search and exports (issue #11) on one day of N orders.

Builds a throw-away database (MYSQL_URL's server, database `<its name>_bench`), fills it with N
orders created in the last 6 hours (mixed statuses and times), a paid payment and a platform
fee per completed one, then times adapters/dashboard.py, adapters/order_search.py and the
exports (adapters/exports*.py) as the hub calls them, and drops the database. Prints figures.

    MYSQL_URL=mysql://root@127.0.0.1:3306/orderhub_test .venv/bin/python -m load.bench_console 20000
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import timedelta

import pymysql

from adapters import dashboard, exports, exports_pdf, exports_xlsx, order_search
from adapters.clock import utcnow
from adapters.migrate import migrate
from adapters.mysql import Database, MysqlDsn
from adapters.reconciliation import china_day
from load.stores import drop_database

BASE = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub_test")
URL = BASE.rsplit("/", 1)[0] + "/" + MysqlDsn.parse(BASE).database + "_bench"
STATUSES = ["pending", "accepted", "completed", "completed", "completed", "cancelled", "expired"]
ORDER_COLUMNS = (
    "order_no, customer_id, service_id, status, payment_status, dispatch_mode, urgency, address,"
    " lat, lng, contact_name, contact_phone_enc, contact_phone_hash, contact_phone_masked,"
    " estimated_amount, final_amount, created_at, accepted_at, arrived_at, completed_at"
)


def one_order(i: int, now) -> tuple:
    created = now - timedelta(seconds=random.randint(0, 6 * 3600))
    st = random.choice(STATUSES)
    taken = st not in ("pending", "expired")
    acc = created + timedelta(seconds=random.randint(5, 300)) if taken else None
    arr = acc + timedelta(seconds=random.randint(300, 1800)) if st == "completed" else None
    done = arr + timedelta(seconds=random.randint(600, 3600)) if arr else None
    phone = f"138****{random.randint(0, 9999):04d}"
    paid = "paid" if done else "unpaid"
    return (f"OH{i:018d}", 1, 1, st, paid, "grab", "normal", "海口市美兰区人民大道 58 号",
            20.03, 110.3, "王女士", b"x", b"h" * 32, phone,
            10000, 10000 if done else None, created, acc, arr, done)  # fmt: skip


def fill(n: int) -> int:
    """A fresh bench database with n orders of today; how many payments were paid."""
    if MysqlDsn.parse(URL).database in ("orderhub", "orderhub_bench"):
        raise SystemExit("point MYSQL_URL at a test database, not the demo one")
    drop_database(URL)
    dsn = MysqlDsn.parse(URL)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False, db_key="database"), autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE `{dsn.database}` CHARACTER SET utf8mb4")
    conn.close()
    migrate(URL, log=lambda *a: None)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"))
    cur = conn.cursor()
    cur.execute("INSERT INTO users (role, nickname) VALUES ('customer', 'c')")
    cur.execute(
        "INSERT INTO services (category, name, base_price, duration_min)"
        " VALUES ('electrical', '电路', 10000, 60)"
    )
    now = utcnow().replace(microsecond=0)
    marks = ", ".join(["%s"] * 20)
    cur.executemany(
        f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES ({marks})",
        [one_order(i, now) for i in range(n)],
    )
    cur.execute("SELECT id, completed_at FROM orders WHERE completed_at IS NOT NULL")
    done = cur.fetchall()
    cur.executemany(
        "INSERT INTO payments (payment_no, order_id, customer_id, amount, status, out_trade_no,"
        " transaction_id, paid_at) VALUES (%s, %s, 1, 10000, 'paid', %s, %s, %s)",
        [(f"P{oid}", oid, f"T{oid}", f"W{oid}", at) for oid, at in done],
    )
    cur.execute("SELECT id, order_id, paid_at FROM payments")
    cur.executemany(
        "INSERT INTO ledger_entries (kind, source_id, account, amount, order_id, payment_id,"
        " created_at) VALUES ('payment', %s, 'platform_fee', 2000, %s, %s, %s)",
        [(pid, oid, pid, at) for pid, oid, at in cur.fetchall()],
    )
    conn.commit()
    conn.close()
    return len(done)


def took(label: str, t0: float, extra: str = "") -> None:
    print(f"{label:34s} {1000 * (time.perf_counter() - t0):7.0f} ms {extra}")


async def main(n: int) -> None:
    paid = fill(n)
    db = await Database.connect(URL)
    date = (utcnow() + timedelta(hours=8)).date().isoformat()
    start, end = china_day(date)
    print(f"{n} orders today, {paid} paid payments")
    for _ in range(2):
        t0 = time.perf_counter()
        figures = await dashboard.day_summary(db, start, end)
        took("dashboard (every figure)", t0)
    t0 = time.perf_counter()
    _, total = await order_search.search(db, order_search.Filters(q="1234"), 50, 0)
    took("order search by phone tail", t0, f"({total} match)")
    t0 = time.perf_counter()
    _, total = await order_search.search(db, order_search.Filters(status="completed"), 50, 0)
    took("order search by status", t0, f"({total} match)")
    t0 = time.perf_counter()
    orders = await exports.orders_of_day(db, start, end)
    took("orders export: read", t0, f"({len(orders)} rows)")
    t0 = time.perf_counter()
    body = exports_xlsx.orders_workbook(date, orders)
    took("orders export: xlsx", t0, f"({len(body) / 1e6:.1f} MB)")
    t0 = time.perf_counter()
    payments = await exports.payments_of_day(db, start, end)
    took("payments export: read", t0, f"({len(payments)} rows)")
    t0 = time.perf_counter()
    body = exports_xlsx.payments_workbook(date, payments)
    took("payments export: xlsx", t0, f"({len(body) / 1e6:.1f} MB)")
    t0 = time.perf_counter()
    body = exports_pdf.daily_report(date, figures)
    took("daily report: pdf", t0, f"({len(body) / 1e3:.0f} kB)")
    await db.close()
    drop_database(URL)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
