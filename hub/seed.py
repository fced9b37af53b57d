"""Demo data for `make run`: a catalog, two Haikou service areas and a dispatcher. Idempotent."""

from __future__ import annotations

from adapters import catalog, virtual_numbers
from adapters.settings import Settings
from hub import accounts, secret_files

# (category, name, description, base price in fen, minutes)
SERVICES = [
    ("electrical", "电路故障检修", "跳闸、短路、插座无电等线路故障排查与维修", 8000, 60),
    ("electrical", "灯具安装", "吊灯、吸顶灯、筒灯安装与更换", 5000, 45),
    ("electrical", "开关插座更换", "单个开关或插座的更换与接线", 3000, 30),
    ("plumbing", "水管漏水维修", "明管、暗管漏水检测与修复", 9000, 90),
    ("plumbing", "马桶疏通", "马桶、地漏、下水道堵塞疏通", 6000, 45),
    ("plumbing", "水龙头更换", "厨房、卫生间龙头拆装更换", 4000, 30),
    ("cleaning", "日常保洁", "2 小时上门日常清洁", 10000, 120),
    ("cleaning", "深度保洁", "厨房卫生间重油污与死角深度清洁", 25000, 240),
    ("cleaning", "家电清洗", "空调、油烟机、洗衣机拆洗", 12000, 90),
    ("appliance", "空调维修", "不制冷、漏水、异响等故障维修", 10000, 90),
    ("appliance", "洗衣机维修", "不脱水、不进水、报错维修", 8000, 60),
    ("appliance", "热水器维修", "电热水器、燃气热水器故障维修", 9000, 60),
]

# Two districts of Haikou, as rough boxes (lat, lng) around their centres; 龙华区 asks a ¥30
# deposit at order time (seed 001's 定金 + 尾款), 美兰区 is paid after the service.
AREAS = [
    ("美兰区", "海口", 20.0300, 110.3500, 0.12, 0),
    ("龙华区", "海口", 20.0200, 110.2000, 0.12, 3000),
]

# Virtual numbers (隐私号 X) per demo area; production adds the numbers it bought with
# POST /api/admin/virtual-numbers.
DEMO_NUMBERS = {
    "美兰区": [f"170000010{n:02d}" for n in range(10)],
    "龙华区": [f"170000020{n:02d}" for n in range(10)],
}


def _box(lat: float, lng: float, half: float) -> list[list[float]]:
    return [
        [lat - half, lng - half],
        [lat - half, lng + half],
        [lat + half, lng + half],
        [lat + half, lng - half],
    ]


def seed(settings: Settings) -> None:
    catalog.add_missing(
        settings.mysql_url,
        SERVICES,
        [
            (name, city, lat, lng, _box(lat, lng, half), deposit)
            for name, city, lat, lng, half, deposit in AREAS
        ],
    )
    # the privacy-number pool (masked calls): ten virtual numbers per demo area
    virtual_numbers.seed_pool(settings.mysql_url, DEMO_NUMBERS)
    dispatcher_pw, _ = secret_files.admin_password(settings.state_dir / "dispatcher", None)
    accounts.ensure_staff(settings.mysql_url, "dispatcher", dispatcher_pw, "dispatcher")
    admin_pw, _ = secret_files.admin_password(settings.state_dir, settings.admin_password)
    print(
        f"[orderhub] demo data: {len(SERVICES)} services in 4 categories, {len(AREAS)} areas"
        " (Haikou)",
        flush=True,
    )
    print(
        f"[orderhub] console logins: {settings.admin_user} / {admin_pw} (admin),"
        f" dispatcher / {dispatcher_pw} (dispatcher)",
        flush=True,
    )
    print(
        "[orderhub] mini program logins: any WeChat code 'sandbox-<name>', e.g. sandbox-alice",
        flush=True,
    )
