"""What the hub acknowledged and what the clients saw, as one worker process recorded it:
the material of the end-of-run checks (load/checks.py)."""

from __future__ import annotations

from load.metrics import Metrics


class Ledger:
    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self.order_modes: dict[int, str] = {}  # orderId -> dispatch mode, of orders made here
        self.wins: list[tuple] = []  # (orderId, providerId, how, when): told they won
        self.acked: list[tuple] = []  # (orderId, seq, status, action) the hub acknowledged
        self.acked_chats: list[tuple] = []  # (orderId, seq, clientMsgId)
        self.created: list[int] = []
        self.gaps = {"live": 0, "sync": 0, "watch": 0}
        self.gap_examples: list[dict] = []
        self.contention: dict[int, list[int]] = {}  # orderId -> [grab attempts, lost]
        self.features: dict[str, bool] = {}  # False: the hub turned out not to have it
        # (paymentId, orderId, kind, amount, outTradeNo) of every payment prepaid here
        self.payments: list[tuple] = []
        self.paid_seen: dict[int, int] = {}  # paymentId -> `paid` events its customer saw

    def acknowledged(self, oid: int, order: dict | None, action: str, t_send: float) -> None:
        order = order or {}
        seq = order.get("seq")
        self.acked.append((oid, seq, order.get("status"), action))
        if action != "create" and isinstance(seq, int):
            self.metrics.start("status change → watcher", (oid, seq), t_send)

    def record_gap(self, client: str, st, ev: dict, live: bool) -> None:
        """A `seq` gap that `client` saw in the stream `st` (a SeqStream)."""
        kind = "watch" if ev.get("type") == "watch-ack" else ("live" if live else "sync")
        self.gaps[kind] += 1
        self.metrics.error(f"seq gap ({kind})")
        if len(self.gap_examples) < 20:
            self.gap_examples.append(
                {
                    "client": client,
                    "orderId": st.order_id,
                    "lastSeen": st.last,
                    "got": ev.get("seq"),
                    "type": ev.get("type"),
                    "kind": kind,
                }
            )

    def paid_event(self, ev: dict) -> None:
        """A `paid` order event a customer applied (each seq once): counted per payment (two
        are a double credit) and by how the hub found it paid."""
        detail = ev.get("detail") or {}
        pid = detail.get("paymentId")
        self.paid_seen[pid] = self.paid_seen.get(pid, 0) + 1
        self.metrics.inc(f"paid via {detail.get('via') or 'unknown'}")

    def contention_attempt(self, oid: int) -> None:
        self.contention.setdefault(oid, [0, 0])[0] += 1

    def contention_lost(self, oid: int) -> None:
        self.contention.setdefault(oid, [0, 0])[1] += 1
        self.metrics.inc("grabs lost (already_taken)")

    def record(self) -> dict:
        """The ledger's part of a worker's final message to the parent: all it holds but the
        metrics and order_modes (which only this worker's providers read)."""
        return {k: v for k, v in vars(self).items() if k not in ("metrics", "order_modes")}
