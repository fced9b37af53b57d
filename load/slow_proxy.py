"""A TCP proxy that can add latency: a slow database (or any TCP service) on demand.

Every byte a client sends reaches the server `delay` seconds later (order kept, throughput
not limited), so each request/response round trip takes `delay` longer — as a MySQL server
behind a congested link or a stalled disk would look to its clients. The delay can change
while connections are open. Runs its own event loop in a thread, so a test's own loop (and
the load generator in it) does not decide the proxy's timing.

    python -m load.slow_proxy --listen 13306 --to 127.0.0.1:3306 --delay-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time

CHUNK = 65536


class SlowProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int = 0):
        self.target = (target_host, target_port)
        self.listen_port = listen_port
        self.delay = 0.0  # seconds added to every client → server chunk
        self.connections = 0  # accepted so far
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # --- control (from any thread) -----------------------------------------------------------

    def start(self) -> SlowProxy:
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("slow proxy did not start")
        return self

    def set_delay(self, seconds: float) -> None:
        self.delay = max(0.0, seconds)

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    # --- the loop ----------------------------------------------------------------------------

    def _run(self, started: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.listen_port)
        )
        self.listen_port = self._server.sockets[0].getsockname()[1]
        started.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for w in list(self._writers):
                w.close()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.sleep(0.05))
            self._loop.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        self.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()  # the server is down: the client sees its connection closed
            return
        self._writers.update((client_w, server_w))
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, delayed=True),
                self._pipe(server_r, client_w, delayed=False),
            )
        finally:
            for w in (client_w, server_w):
                self._writers.discard(w)
                w.close()

    async def _pipe(self, reader, writer, delayed: bool) -> None:
        """Copy until EOF; when `delayed`, each chunk is written `delay` after it was read
        (a queue keeps the order and lets later chunks travel while earlier ones wait)."""
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver():
            while (item := await queue.get()) is not None:
                due, data = item
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while data := await reader.read(CHUNK):
                queue.put_nowait((time.monotonic() + (self.delay if delayed else 0), data))
            queue.put_nowait(None)
            await sender
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sender.cancel()
            writer.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", required=True, help="host:port")
    ap.add_argument("--delay-ms", type=float, default=200.0)
    args = ap.parse_args()
    host, port = args.to.rsplit(":", 1)
    proxy = SlowProxy(host, int(port), args.listen).start()
    proxy.set_delay(args.delay_ms / 1000)
    print(f"127.0.0.1:{proxy.listen_port} → {args.to}, +{args.delay_ms:g} ms per round trip")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    proxy.stop()


if __name__ == "__main__":
    main()
