"""The dispatch simulation: the real engine (actors/dispatch) on a simulated clock.

    python -m load.dispatch_sim [--providers 2000] [--rate 200] [--duration 3600] [--seed 1]
                                [--strategies nearest,weighted] [--out reports/dispatch-sim]

- world.py: the city, its service areas, providers (each with a behaviour) and orders, all
  from one seed;
- fleet.py: the providers' live state and the candidate snapshots the engine reads;
- engine.py: the discrete-event clock and each order's chain (batches, assign, alert);
- grab.py: the grab hall; window.py: the batch matching window;
- scenarios.py: what one run compares; metrics.py: the figures and checks of a run;
- report.py, plots.py: JSON and self-contained HTML; cli.py: the command line.

See docs/dispatch-simulation.md.
"""
