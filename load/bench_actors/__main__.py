"""``python -m load.bench_actors``: see load/bench_actors/__init__.py and docs/benchmarks.md."""

import sys

from load.bench_actors.cli import main

sys.exit(main())
