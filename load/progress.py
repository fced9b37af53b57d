"""The live line in the terminal, once a second."""

from __future__ import annotations

import sys

from actors.transitions import STATUSES

SHORT = {  # a status as the live line shows it
    "pending": "pend",
    "accepted": "acc",
    "departed": "dep",
    "arrived": "arr",
    "in_progress": "work",
    "completed": "done",
    "cancelled": "canc",
    "expired": "exp",
}


def line(elapsed: float, duration: float, gauges: dict, last: dict | None, totals: dict) -> str:
    g = gauges
    orders = g.get("orders", {})
    ord_txt = " ".join(f"{SHORT.get(k, k)} {orders[k]}" for k in STATUSES if orders.get(k))
    cnt = (last or {}).get("cnt", {})
    cpu_gen = (last or {}).get("cpu_gen")
    cpu_hub = (last or {}).get("cpu_hub")
    errs = sum(totals.get("err", {}).values())
    parts = [
        f"[{elapsed:5.0f}s/{duration:.0f}s]",
        f"prov {g.get('providers connected', 0)}/{g.get('providers', 0)}"
        f" online {g.get('providers online', 0)} busy {g.get('providers busy', 0)}",
        f"cust {g.get('customers connected', 0)}/{g.get('customers', 0)}",
        f"orders {ord_txt or '-'}",
        f"ev/s in {cnt.get('socket msgs in', 0)} out {cnt.get('socket msgs out', 0)}"
        f" rest {cnt.get('rest', 0)}",
        f"err {errs}",
    ]
    if cpu_gen is not None:
        cpu = f"cpu gen {cpu_gen * 100:.0f}%"
        if cpu_hub is not None:
            cpu += f" hub {cpu_hub * 100:.0f}%"
        parts.append(cpu)
    return " | ".join(parts)


class Progress:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.tty = sys.stdout.isatty()
        self.width = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            pad = max(0, self.width - len(text))
            sys.stdout.write("\r" + text + " " * pad)
            self.width = len(text)
        else:
            sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty and self.width:
            sys.stdout.write("\n")
            self.width = 0
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
