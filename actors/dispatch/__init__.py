"""The dispatch engine (CONTRACT §10), pure: no I/O, no clock of its own.

- policy.py: the settings of one area and service (stages, radius, batches, strategy, fairness),
  merged from defaults and the rows staff edit;
- filters.py: who may get the order — one pipeline of named filters, each exclusion with its
  reason;
- scoring.py: how the eligible rank — pluggable strategies with their score parts;
- plan.py: the fallback chain's state and what its next step is (batches over a growing
  radius, assignment, the staff alert);
- matching.py: a batch window's orders matched to free providers together.

The order actor (actors/order_dispatch.py) feeds these with live snapshots and carries their
answers out; the dispatch simulation (load/dispatch_sim) feeds them with simulated ones. Both
run the same code.
"""
