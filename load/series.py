"""The names of the latency series the report and the bench single out."""

from __future__ import annotations

# The latencies every client feels; the bench compares these between hub and relay.
CLIENT_SERIES = (
    "REST call",
    "grab ack",
    "order created → first offer",
    "status change → watcher",
    "location → watcher",
    "chat send → delivery",
)
# Payments: the prepay request sent → the customer knows it is paid (its watcher's `paid`
# order event, or GET /api/payments/{id} saying so), through the sandbox's cashier.
PREPAY_PAID = "prepay → paid"
PAY_SERIES = (PREPAY_PAID,)
# Charted in the report, and listed first in its tables.
KEY_SERIES = (
    *CLIENT_SERIES,
    "order created → offer (each provider)",
    "grab won → order.taken (each provider)",
    *PAY_SERIES,
    "location.update ack",
    "reconnect (drop → connected)",
    "generator loop lag",
    "generator GC pause",
)
