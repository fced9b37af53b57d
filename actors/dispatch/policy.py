"""A dispatch policy: how one area (and service) finds a provider for an order.

Defaults live here; staff override any field per area, per service or per both (rows in
MySQL, adapters/dispatch.py), merged from the most general to the most specific. Namma Yatri's
driver-pool settings are the model for the batch fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

STAGES = ("grab", "batches", "assign", "alert")
STRATEGY_NAMES = ("nearest", "weighted")


@dataclass(frozen=True)
class Weights:
    """The weighted strategy's weights; each part is scaled to 0..1 before weighing."""

    distance: float = 0.45
    rating: float = 0.2
    load: float = 0.1
    acceptance: float = 0.1
    idle: float = 0.1
    previous: float = 0.05


@dataclass(frozen=True)
class Policy:
    # The fallback chain: the stages an order goes through, in order. A grab order starts at
    # "grab"; an auto order at the first other stage.
    chain: tuple[str, ...] = ("grab", "batches", "assign", "alert")
    grab_window_s: float = 120.0  # how long a grab order stays in the grab hall
    grab_radius_m: float = 5000.0
    strategy: str = "weighted"
    weights: Weights = field(default_factory=Weights)
    # batches: K providers at once, the radius growing from min to max by step when short
    min_radius_m: float = 3000.0
    max_radius_m: float = 7000.0
    radius_step_m: float = 2000.0
    batch_size: int = 3  # 1 = one by one
    max_batches: int = 3
    batch_s: float = 20.0
    # the batch matching window: orders collected for this long and matched together (0: off)
    window_s: float = 0.0
    # eligibility
    fix_max_age_s: float = 180.0  # a location older than this is not trusted
    travel_kmh: float = 25.0  # between one job and the next, for schedule conflicts
    # fairness
    cooldown_after: int = 3  # this many declines or time-outs in a row ...
    cooldown_s: float = 300.0  # ... rest the provider this long
    max_open_offers: int = 20  # a provider never holds more offers than this
    # grabs a provider may send per minute: the simulation models it; the hub enforces the
    # deployment-wide HUB_GRABS_PER_MIN (the grab reaches the hub before its order is known)
    grab_per_min: int = 60
    reveal_ms: float = 300.0  # grab offers reach each provider after a random delay ≤ this
    # scheduled orders
    remind_before_min: float = 30.0
    depart_by_min: float = 15.0  # not departed this long before the slot: a no-show
    explain_top: int = 10  # candidates kept in an explanation
    # staff hear of an order still untaken this long after it was placed (0: never)
    untaken_alert_min: float = 10.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["chain"] = list(self.chain)
        return data

    def radii(self) -> list[float]:
        """The batch radii from min to max by step (max always last)."""
        out, r = [], self.min_radius_m
        while r < self.max_radius_m:
            out.append(r)
            r += max(self.radius_step_m, 1.0)
        out.append(self.max_radius_m)
        return out

    def stages_for(self, mode: str) -> tuple[str, ...]:
        """The chain an order of this dispatch mode runs through."""
        if mode == "grab":  # grab first, once, wherever the chain lists it
            return ("grab", *(s for s in self.chain if s != "grab"))
        return tuple(s for s in self.chain if s != "grab") or ("alert",)


class PolicyError(ValueError):
    pass


_NUMBERS = {f.name: f.type for f in fields(Policy) if f.type in ("float", "int")}


def merged(*overrides: dict) -> Policy:
    """The defaults with each override applied in turn (general first). Unknown or invalid
    fields raise PolicyError naming the field."""
    policy = Policy()
    for data in overrides:
        policy = _apply(policy, data or {})
    return policy


def layers(rows: dict[tuple[int, int], dict], area_id: int, service_id: int) -> list[dict]:
    """The override rows that apply to (area, service), most general first: any, the
    service anywhere, the area for any service, the area for this service (0 = any)."""
    keys = dict.fromkeys(((0, 0), (0, service_id), (area_id, 0), (area_id, service_id)))
    return [rows[k] for k in keys if k in rows]


def _apply(policy: Policy, data: dict) -> Policy:
    changes: dict = {}
    for name, value in data.items():
        if name == "chain":
            chain = tuple(value) if isinstance(value, list | tuple) else ()
            if not chain or any(s not in STAGES for s in chain) or len(set(chain)) != len(chain):
                raise PolicyError(f"chain: a list of distinct stages from {', '.join(STAGES)}")
            changes["chain"] = chain
        elif name == "strategy":
            if value not in STRATEGY_NAMES:
                raise PolicyError(f"strategy: one of {', '.join(STRATEGY_NAMES)}")
            changes["strategy"] = value
        elif name == "weights":
            if not isinstance(value, dict) or set(value) - set(asdict(Weights())):
                raise PolicyError(f"weights: an object with {', '.join(asdict(Weights()))}")
            for k, w in value.items():
                if not _number(w) or not 0 <= w <= 10:
                    raise PolicyError(f"weights.{k}: a number from 0 to 10")
            changes["weights"] = replace(policy.weights, **value)
        elif name in _NUMBERS:
            if not _number(value) or value < 0 or value > 1e7:
                raise PolicyError(f"{name}: a number ≥ 0")
            if _NUMBERS[name] == "int" and value != int(value):
                raise PolicyError(f"{name}: a whole number")
            changes[name] = int(value) if _NUMBERS[name] == "int" else float(value)
        else:
            raise PolicyError(f"{name}: not a dispatch setting")
    out = replace(policy, **changes)
    if out.min_radius_m > out.max_radius_m:
        raise PolicyError("min_radius_m: not above max_radius_m")
    if out.radius_step_m < 100:
        raise PolicyError("radius_step_m: at least 100 (m)")
    if out.batch_size < 1 or out.max_batches < 1:
        raise PolicyError("batch_size and max_batches: at least 1")
    return out


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
