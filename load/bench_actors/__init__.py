"""Benchmark of the actor layer, end to end through a real hub.

    python -m load.bench_actors [--json out.json] [--phases sharded,dedicated,locations] ...

Every phase gets a fresh stack of its own (stack.py): the scratch database (dropped,
migrated, seeded), a scratch Redis db (9 by default; flushed), a Ray head started here in
its own process group (killed at the end; `ray stop` is never used, it would kill other
people's Ray), the WeChat sandbox and one hub. The database and the Redis db are refused
while anyone else is connected to them.

* sharded / dedicated (memory.py): memory per active order and per online provider, and
  how many of each are made live per second. Orders: `POST /api/orders` (it answers once
  the order's actor is activated). Providers: the ack of `provider.online` (apply + approve
  and the socket connect are done beforehand and not timed). Memory comes from
  `EntityHost.stats()`: sharded, the hosts' USS/RSS before vs after, divided by the number
  of entities added; dedicated, summed over the per-entity actors (each a whole process).
* locations (locations.py, sharded): P providers online, each with a grabbed order watched
  by its customer; the providers send `location.update` at a fixed total rate; the
  customers time `provider.location` (latency = receive time - `at`, which has millisecond
  resolution).

The modules: basics.py (errors, log line, bounded concurrency), meters.py (CPU, memory,
the hub's health round trip), stack.py, world.py (users made through the hub's API),
memory.py, locations.py, table.py (the printed table) and cli.py (flags, phases, report).
See docs/benchmarks.md for what every figure means and the figures measured here.
"""
