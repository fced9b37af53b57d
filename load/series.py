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
# Charted in the report, and listed first in its tables.
KEY_SERIES = (
    *CLIENT_SERIES,
    "order created → offer (each provider)",
    "grab won → order.taken (each provider)",
    "location.update ack",
    "reconnect (drop → connected)",
    "generator loop lag",
)
