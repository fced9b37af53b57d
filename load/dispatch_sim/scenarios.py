"""The scenarios one run compares: each a dispatch mode and policy overrides on the defaults
(policy.merged, as staff rows override them), for the window the matcher, for the grab hall
whether providers race (tap within a second) or react like people (seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.dispatch.policy import STRATEGY_NAMES, Policy, merged

NO_LIMIT = 1_000_000  # an offer cap or grab rate nobody reaches


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str  # "auto" or "grab"
    about: str
    overrides: dict = field(default_factory=dict)
    matcher: str | None = None  # the window's: "optimal" or "greedy"
    group: str = "auto"  # which comparison it belongs to (GROUPS)
    race: bool = False  # grab hall: every provider taps within 0.25–0.8 s

    def policy(self) -> Policy:
        return merged(self.overrides)


def auto(strategy: str) -> Scenario:
    return Scenario(
        f"auto-{strategy}",
        "auto",
        f"auto mode, the {strategy} strategy: batches → assign → alert",
        {"strategy": strategy},
    )


AUTO_NO_COOLDOWN = Scenario(
    "auto-no-cooldown",
    "auto",
    "auto mode, weighted, without the cool-down after misses (cooldown_s 0)",
    {"cooldown_s": 0},
)

ALL_OFF = {"reveal_ms": 0, "cooldown_s": 0, "max_open_offers": NO_LIMIT, "grab_per_min": NO_LIMIT}
_GRAB_VARIANTS = (
    ("grab", "with the default fairness settings", {}),
    ("grab-no-reveal", "without the reveal delay (reveal_ms 0)", {"reveal_ms": 0}),
    ("grab-no-cooldown", "without the cool-down (cooldown_s 0)", {"cooldown_s": 0}),
    ("grab-no-offer-cap", "without the open-offer cap", {"max_open_offers": NO_LIMIT}),
    ("grab-no-rate-limit", "without the grab rate limit", {"grab_per_min": NO_LIMIT}),
    ("grab-no-fairness", "without any of the four fairness settings", ALL_OFF),
)
GRAB = tuple(
    Scenario(name, "grab", f"grab hall {text}; then batches → assign → alert", o, group="grab")
    for name, text, o in _GRAB_VARIANTS
)
RACE = tuple(
    Scenario(
        name,
        "grab",
        f"grab hall, everyone taps within 0.25–0.8 s, {text}",
        o,
        group="race",
        race=True,
    )
    for name, text, o in (
        ("race", "the default reveal delay (≤ 300 ms)", {}),
        ("race-reveal-1s", "a longer reveal delay (≤ 1000 ms)", {"reveal_ms": 1000}),
        ("race-no-reveal", "no reveal delay", {"reveal_ms": 0}),
    )
)
WINDOW = tuple(
    Scenario(
        f"window-{m}",
        "auto",
        f"auto mode with a 2 s matching window; matching.{m} picks each order's first offer",
        {"window_s": 2},
        matcher=m,
        group="window",
    )
    for m in ("optimal", "greedy")
)

GROUPS = ("auto", "grab", "race", "window")


def pick(strategies: list[str], groups: list[str]) -> list[Scenario]:
    """The scenarios of a run: one auto scenario per strategy (and the auto one without the
    cool-down), then the grab hall's, the tap race's and the window's."""
    bad = [s for s in strategies if s not in STRATEGY_NAMES]
    if bad:
        raise ValueError(f"unknown strategy {bad[0]!r}: one of {', '.join(STRATEGY_NAMES)}")
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise ValueError(f"unknown scenario group {bad[0]!r}: any of {', '.join(GROUPS)}")
    out: list[Scenario] = []
    if "auto" in groups:
        out += [auto(s) for s in strategies]
        out.append(AUTO_NO_COOLDOWN)
    for name, group in (("grab", GRAB), ("race", RACE), ("window", WINDOW)):
        if name in groups:
            out += group
    return out
