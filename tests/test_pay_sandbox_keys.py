"""adapters/wechat_pay_keys.py: made once into the state dir, the same for every process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_pay_sandbox_kit import pay_client
from wechatpayv3.utils import load_private_key, load_public_key

from adapters.wechat_pay_keys import KEYS_FILE, load_or_make

REPO = Path(__file__).resolve().parents[1]


def test_made_once_then_loaded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("WECHAT_PAY_MCHID", raising=False)
    first = load_or_make(tmp_path / "state")
    again = load_or_make(tmp_path / "state")
    assert first == again
    assert first.mchid == "1900000109"
    assert len(first.merchant_serial_no) == 40 and int(first.merchant_serial_no, 16)
    assert first.platform_public_key_id.startswith("PUB_KEY_ID_")
    assert len(first.apiv3_key) == 32
    assert "PRIVATE KEY" in first.merchant_private_key
    assert first.merchant_public_key != first.platform_public_key
    assert (tmp_path / "state" / KEYS_FILE).stat().st_mode & 0o777 == 0o600
    # Nothing but the keys file is left behind.
    assert [p.name for p in (tmp_path / "state").iterdir()] == [KEYS_FILE]


def test_mchid_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WECHAT_PAY_MCHID", "1230000109")
    assert load_or_make(tmp_path).mchid == "1230000109"
    assert load_or_make(tmp_path, mchid="1555555555").mchid == "1555555555"


def test_processes_starting_together_agree(tmp_path: Path) -> None:
    code = (
        "import sys, json; from adapters.wechat_pay_keys import load_or_make; "
        "k = load_or_make(sys.argv[1]); "
        "print(json.dumps([k.merchant_serial_no, k.platform_public_key_id, k.apiv3_key]))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "s")],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = {proc.communicate(timeout=60)[0] for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(answers) == 1
    assert json.loads(answers.pop())[0] == load_or_make(tmp_path / "s").merchant_serial_no


def test_the_client_library_takes_them(tmp_path: Path) -> None:
    keys = load_or_make(tmp_path)
    # wechatpayv3's own loaders: the PEM strings are what the client's arguments take.
    assert load_private_key(keys.merchant_private_key).key_size == 2048
    assert load_public_key(keys.platform_public_key).key_size == 2048
    client = pay_client(keys, "http://127.0.0.1:9")
    assert client._core._public_key_id == keys.platform_public_key_id
    assert client.sign(["a", "b", "c", "d"])
