"""`python -m sandbox`: serve the WeChat sandbox with uvicorn."""

from __future__ import annotations

import os
import signal
import socket
from types import FrameType

import uvicorn

from adapters.aliyun import access_key
from adapters.wechat_pay_keys import load_or_make
from sandbox.app import create_app
from sandbox.pay import PayProduct
from sandbox.pay_faults import from_env

# The hub's adapter (adapters/wechat.py) reads the same variables with the same defaults.
DEFAULT_APPID = "wx5a4d0c0ffee0hub1"
DEFAULT_SECRET = "sandbox-app-secret-change-me"


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # The bound port, not the configured one, so that port 0 works too.
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            print(f"WeChat sandbox listening on http://{netloc}", flush=True)


def main() -> None:
    # uvicorn shuts down gracefully, restores these handlers and re-raises the signal:
    # they turn it into exit status 0 instead of a death by signal.
    signal.signal(signal.SIGINT, _exit_cleanly)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    host = os.environ.get("WECHAT_SANDBOX_HOST", "127.0.0.1")
    port = int(os.environ.get("WECHAT_SANDBOX_PORT", "8100"))
    appid = os.environ.get("WECHAT_APPID", DEFAULT_APPID)
    pay = PayProduct(
        appid,
        # The hub reads the same keys (adapters/wechat_pay_keys.py) from the same state dir.
        load_or_make(os.environ.get("ORDERHUB_STATE_DIR") or "var"),
        faults=from_env(os.environ.get("WECHAT_SANDBOX_PAY_FAULTS")),
        time_factor=float(os.environ.get("WECHAT_SANDBOX_TIME_FACTOR") or 1.0),
    )
    # The hub reads the same AccessKey (adapters/aliyun.py): from the environment or the state dir.
    aliyun_key = access_key(
        os.environ.get("ORDERHUB_STATE_DIR") or "var",
        os.environ.get("ALIYUN_ACCESS_KEY_ID"),
        os.environ.get("ALIYUN_ACCESS_KEY_SECRET"),
    )
    app = create_app(appid, os.environ.get("WECHAT_SECRET", DEFAULT_SECRET), pay, aliyun_key)
    _Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).run()


if __name__ == "__main__":
    main()
