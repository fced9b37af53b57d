"""What the Alibaba Cloud clients share: the AccessKey pair and the SDK's Config for a base URL.

The AccessKey comes from ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET; unset (the local
sandbox), a pair is generated once in the state dir, where the sandbox reads the same file, as
the WeChat Pay keys are shared (adapters/wechat_pay_keys.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlparse

from alibabacloud_tea_openapi.models import Config

from adapters.state_secrets import read_or_create

KEY_FILE = "aliyun-access-key"


def _new_access_key() -> str:
    """A pair shaped like Alibaba Cloud's, as "id:secret"."""
    return f"LTAI5t{secrets.token_hex(9)}:{secrets.token_urlsafe(24)}"


def access_key(state_dir: Path, key_id: str | None, key_secret: str | None) -> tuple[str, str]:
    """(AccessKey id, secret): the given pair, else the state dir's."""
    if key_id and key_secret:
        return key_id, key_secret
    pair = read_or_create(Path(state_dir) / KEY_FILE, _new_access_key)
    key_id, _, key_secret = pair.partition(":")
    return key_id, key_secret


def sdk_config(base_url: str, key: tuple[str, str]) -> Config:
    """The tea-openapi Config of a product client: `endpoint` is host[:port] and `protocol`
    http or https, both taken from the base URL (https://dysmsapi.aliyuncs.com in
    production, the sandbox's http://127.0.0.1:8100 here)."""
    url = urlparse(base_url)
    return Config(
        access_key_id=key[0],
        access_key_secret=key[1],
        endpoint=url.netloc,
        protocol=url.scheme or "https",
        connect_timeout=3000,
        read_timeout=10000,
    )


class AliyunError(Exception):
    """A call Alibaba Cloud answered with a Code other than OK (or did not answer)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message
