"""``python -m load.dispatch_sim``: run the scenarios (in parallel processes, each building the
same world from the seed), print the figures, write the JSON and HTML report."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from actors.dispatch.policy import STRATEGY_NAMES, Policy
from load.dispatch_sim import report
from load.dispatch_sim.engine import Sim
from load.dispatch_sim.metrics import summarize
from load.dispatch_sim.scenarios import GROUPS, Scenario, pick
from load.dispatch_sim.world import JOB_MINUTES, make_world


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m load.dispatch_sim",
        description="The dispatch engine (actors/dispatch) on a simulated clock: a city of "
        "providers, a Poisson stream of orders, one run per scenario; figures per scenario "
        "(pickup distance, time to accept, acceptance, unassigned orders, Gini, utilisation) "
        "in a JSON and an HTML report. See docs/dispatch-simulation.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--providers", type=int, default=2000, help="providers in the city")
    p.add_argument("--rate", type=float, default=200.0, help="orders per minute (Poisson)")
    p.add_argument("--duration", type=float, default=3600.0, help="simulated seconds measured")
    p.add_argument(
        "--warmup", type=float, default=300.0, help="simulated seconds run first, not measured"
    )
    p.add_argument("--seed", type=int, default=1, help="the world: providers and orders")
    p.add_argument(
        "--strategies",
        default=",".join(STRATEGY_NAMES),
        help=f"auto-mode scoring strategies, any of {', '.join(STRATEGY_NAMES)}",
    )
    p.add_argument(
        "--groups",
        default=",".join(GROUPS),
        help="scenario groups: auto (per strategy, and without the cool-down), grab (the "
        "grab hall with each fairness setting off in turn), race (everyone taps within a "
        "second; reveal delay ≤ 300 ms, ≤ 1 s, none), window (2 s matching window, optimal "
        "and greedy)",
    )
    p.add_argument(
        "--job-minutes",
        default=f"{JOB_MINUTES[0]:g},{JOB_MINUTES[1]:g}",
        help="minutes on site, uniform between the two (the drive comes on top)",
    )
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    p.add_argument("--out", type=Path, default=Path("reports/dispatch-sim"), help="report dir")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    try:
        lo, hi = (float(x) for x in args.job_minutes.split(","))
        assert 0 < lo <= hi
    except (ValueError, AssertionError):
        p.error("--job-minutes: two numbers, low,high, 0 < low <= high")
    args.job = (lo, hi)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    try:
        args.scenarios = pick(strategies, groups)
    except ValueError as e:
        p.error(str(e))
    if not args.scenarios or args.providers < 1 or args.rate <= 0 or args.duration <= 0:
        p.error("nothing to run: check --groups, --providers, --rate, --duration")
    return args


def run_one(world_args: tuple, scenario: Scenario, quiet: bool) -> dict:
    """One scenario in this process: its world from the seed, its run, its figures."""
    providers, rate, duration, seed, job, warmup = world_args
    world = make_world(providers, rate, duration, seed, job, warmup)

    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    sim = Sim(world, scenario, say).run()
    say(f"[{scenario.name}] done in {sim.wall_s:.1f} s")
    return summarize(sim)


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    world_args = (args.providers, args.rate, args.duration, args.seed, args.job, args.warmup)
    if args.jobs > 1 and len(args.scenarios) > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_one, world_args, s, args.quiet) for s in args.scenarios]
            results = [f.result() for f in futures]
    else:
        results = [run_one(world_args, s, args.quiet) for s in args.scenarios]
    config = {
        "providers": args.providers,
        "per_min": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "seed": args.seed,
        "job_minutes": list(args.job),
        "jobs": args.jobs,
        "scenarios": [s.name for s in args.scenarios],
        "wall_s": round(time.perf_counter() - started, 1),
        "command": args.command,
        "policy": Policy().to_json(),
    }
    return report.build(config, results)


def print_table(rep: dict) -> None:
    cols = ["scenario", *[t for _, t in report.FIGURES]]
    rows = [[("–" if r[c] is None else str(r[c])) for c in cols] for r in rep["figures"]]
    widths = [max(len(c), *(len(row[k]) for row in rows)) for k, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.command = "python -m load.dispatch_sim " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    if not args.quiet:
        print(
            f"{len(args.scenarios)} scenarios on {args.jobs} process(es): "
            + ", ".join(s.name for s in args.scenarios),
            flush=True,
        )
    rep = run(args)
    j, h = report.write(rep, args.out)
    print_table(rep)
    print(f"checks: {'all 0' if rep['checks_ok'] else 'FAILED'} · {rep['config']['wall_s']} s")
    print(f"report: {h}\n        {j}")
    return 0 if rep["checks_ok"] else 1
