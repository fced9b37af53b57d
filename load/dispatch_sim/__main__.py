"""``python -m load.dispatch_sim --help``."""

from load.dispatch_sim.cli import main

raise SystemExit(main())
