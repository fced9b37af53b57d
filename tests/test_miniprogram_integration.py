"""The mini program's own modules and page logic, in Node, against the real hub (issue #12).

`miniprogram/test/integration/flow.js` runs the customer's pages (login with phone binding,
order with the nearby list and a photo, order detail, messages, payment, evaluate) over the
app's request and socket modules, with `wx.request` over fetch, `wx.connectSocket` over a real
WebSocket and `wx.requestPayment` through the WeChat sandbox's cashier; a provider process
(`provider.js`) uses the same modules to go online, grab the offer and work the order. This
test gives it a service area and an approved provider of its own and checks its verdict.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid

import pytest
from conftest import ROOT
from test_masked_calls import _bind_phone, _mobile

LAT, LNG = 20.19, 110.13  # an area of this file's own, away from the other tests' providers
DEPOSIT = 2000  # the area asks ¥20 while the order is live, the rest after the service
MINIPROGRAM = ROOT / "miniprogram"


@pytest.fixture
def node_ready():
    """Node and the mini program's npm packages (`make test` runs pytest before its JS step)."""
    subprocess.run([str(ROOT / "scripts" / "ensure_node.sh")], check=True, timeout=600)
    if not (MINIPROGRAM / "node_modules" / "ws").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=MINIPROGRAM, check=True, timeout=300
        )


async def test_the_mini_program_against_the_real_hub(world, hub, sandbox, node_ready):
    services = await world.ensure_catalog()
    area = await world.area(LAT, LNG, depositAmount=DEPOSIT)
    provider_name = f"mp-p-{uuid.uuid4().hex[:8]}"
    provider = await world.provider(provider_name)  # applied and approved; the flow logs in
    # masked calls: the provider's phone bound and one virtual number in the area's pool, so
    # the order detail's 拨打电话 dials the number the hub binds at accept
    await _bind_phone(provider, sandbox)
    virtual_number = _mobile("170")
    pool = {"areaId": area["id"], "numbers": [virtual_number]}
    customer_name = f"mp-c-{uuid.uuid4().hex[:8]}"
    customer = await world.login(customer_name)  # the flow logs in as them too
    admin = await world.admin()
    await admin.ok("POST", "/api/admin/virtual-numbers", pool)
    template = {"name": "上门立减", "kind": "threshold", "amountOff": 1000, "threshold": 0}
    template = await admin.ok(
        "POST", "/api/admin/coupons", {**template, "validDays": 7, "stock": 5}, status=201
    )
    issued = await admin.ok(
        "POST", f"/api/admin/coupons/{template['id']}/issue", {"userIds": [customer.user_id]}
    )
    assert issued["issued"], issued
    # on offer in the coupon centre: the flow claims it (its threshold is above this order's
    # price, so at payment it is listed as not usable and the ¥10 one stays the best)
    claimable = {"name": "满千减五十", "kind": "threshold", "amountOff": 5000, "threshold": 100000}
    claimable = await admin.ok(
        "POST", "/api/admin/coupons", {**claimable, "validDays": 7, "stock": 5}, status=201
    )
    env = {
        **os.environ,
        "HUB_URL": hub.url,
        "SANDBOX_URL": sandbox,
        "SERVICE_ID": str(services[0]["id"]),
        "LAT": str(LAT),
        "LNG": str(LNG),
        "CUSTOMER_CODE": f"sandbox-{customer_name}",
        "COUPON": "1",
        "CLAIM_TEMPLATE": str(claimable["id"]),
        "VIRTUAL_NUMBER": virtual_number,
        "PROVIDER_CODE": f"sandbox-{provider_name}",
        "DEPOSIT": str(DEPOSIT),
    }
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "/usr/bin/node",
        "test/integration/flow.js",
        cwd=MINIPROGRAM,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        raise
    stdout, stderr = out.decode(), err.decode()
    print(stdout[-4000:], stderr[-4000:])
    assert proc.returncode == 0, stderr[-3000:] or stdout[-3000:]
    result = json.loads(stdout.strip().splitlines()[-1].removeprefix("RESULT "))
    labels = [step.split(":", 1)[1] for step in result["timeline"]]
    for label in ("师傅已抢单", "师傅已出发", "师傅已到达", "开始服务", "服务完成"):
        assert label in labels, (label, labels)
    assert result["dials"] >= 3  # the dropped socket dialled again: refused, then back
    assert result["nearby"]
    # of ¥100.00: ¥20.00 deposit, then the ¥80.00 balance less the ¥10.00 coupon
    assert result["deposit"] == "¥20.00" and result["coupon"] == "-¥10.00"
    assert result["amount"] == "¥70.00"
    # the coupon centre claimed (a second claim refused in Chinese); the masked number dialled
    assert result["claimed"]["refusedAgain"] == "您已领过这张券，不能再领了"
    assert result["call"] == "dialled" and result["pointOffM"] < 1
