"""Which Ray actor hosts an entity: the placement policy, chosen once from HUB_PLACEMENT.

`ShardedPlacement` (default): HUB_HOSTS long-lived host actors; entity id % hosts picks one,
each holds thousands of entities. `DedicatedPlacement`: one Ray actor per entity (the literal
form; a whole process each, so only for small deployments and as the benchmark baseline).
The order and provider code is the same under both; everything that differs is here, behind
one small interface (Orleans' placement strategies are the model).
"""

from __future__ import annotations

import asyncio
import logging
import time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from adapters.mysql import MysqlDsn
from adapters.settings import Settings

NAMESPACE = "orderhub"

log = logging.getLogger("orderhub.placement")


def host_options(name: str, node_id: str | None = None) -> dict:
    # num_cpus=0: hosts are I/O bound and dedicated mode runs hundreds of them on 2 cores.
    # max_restarts=-1: a crashed host comes back and reloads its entities from MySQL; so does
    # a host whose node died, on another node (soft affinity: the node is a preference).
    options = dict(
        name=name,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        max_task_retries=0,
        max_concurrency=1000,
        num_cpus=0,
    )
    if node_id is not None:
        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id, soft=True)
    return options


def alive_nodes() -> list[str]:
    """The ids of the cluster's live Ray nodes, in a stable order."""
    return sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))


class Placement:
    """Where entity (kind, id) lives, which hosts exist, and creating one on demand.

    `host_cls` is the Ray actor class to create (actors.host.EntityHost); hosts themselves
    only look handles up, so they pass none.
    """

    # A host that holds a shard re-reads MySQL now and then for orders it should hold but does
    # not (a lost activation); a host made for one entity goes away when that entity is done.
    reconciles: bool
    retires_empty_hosts: bool

    def __init__(self, settings: Settings, host_cls=None):
        self.settings = settings
        self.host_cls = host_cls
        self.prefix = f"oh-{MysqlDsn.parse(settings.mysql_url).database}"
        self._handles: dict[str, ray.actor.ActorHandle] = {}

    def host_of(self, kind: str, entity_id: int) -> str:
        raise NotImplementedError

    def owns(self, host_name: str, kind: str, entity_id: int) -> bool:
        return self.host_of(kind, entity_id) == host_name

    def start(self) -> None:
        """Create (or find, after a hub restart) the standing hosts. Sync: call at start-up,
        in one hub process only (the others `attach`)."""

    def attach(self, timeout: float = 120) -> None:
        """Find the standing hosts another hub process created (HUB_WORKERS). Sync."""

    def standing_hosts(self) -> list[str]:
        """The hosts that always exist (none for dedicated)."""
        return []

    async def handle(self, kind: str, entity_id: int, create: bool = False):
        """The handle of the entity's host, or None (not running and not `create`)."""
        name = self.host_of(kind, entity_id)
        if create and name not in self._handles and self.host_cls is not None:
            self._handles[name] = self._create(name)
        return await self.handle_named(name)

    async def handle_named(self, name: str):
        if (handle := self._handles.get(name)) is not None:
            return handle
        try:
            # get_actor blocks on the GCS: keep it off the event loop.
            handle = await asyncio.to_thread(ray.get_actor, name, namespace=NAMESPACE)
        except ValueError:
            return None
        self._handles[name] = handle
        return handle

    def forget(self, kind: str, entity_id: int) -> None:
        """The entity's host died: look it up again next time."""

    def _create(self, name: str, node_id: str | None = None):
        options = host_options(name, node_id)
        return self.host_cls.options(**options).remote(self.settings, name)


class ShardedPlacement(Placement):
    reconciles = True
    retires_empty_hosts = False

    def __init__(self, settings: Settings, host_cls=None):
        super().__init__(settings, host_cls)
        self.hosts = max(1, settings.hosts)

    def host_of(self, kind: str, entity_id: int) -> str:
        return f"{self.prefix}-host-{entity_id % self.hosts}"  # the shard rule, once

    def standing_hosts(self) -> list[str]:
        return [f"{self.prefix}-host-{i}" for i in range(self.hosts)]

    def start(self) -> None:
        # On a cluster (RAY_ADDRESS), host i prefers node i mod nodes: the shards spread over
        # the nodes there are at start; one node alone needs no preference. A host that
        # exists already (a hub restart) stays where it runs.
        nodes = alive_nodes()
        for i, name in enumerate(self.standing_hosts()):
            node = nodes[i % len(nodes)] if len(nodes) > 1 else None
            self._handles[name] = self._existing(name) or self._place(name, node)
        log.info("%d standing hosts over %d Ray node(s)", self.hosts, len(nodes))

    def _existing(self, name: str):
        try:
            return ray.get_actor(name, namespace=NAMESPACE)
        except ValueError:
            return None

    def _place(self, name: str, node: str | None, tries: int = 10):
        """A new host, on `node`. Measured on fresh two-node clusters here (Ray 2.60): a node
        that has not yet run anything for this driver often turns a soft-affinity actor away
        at once (to the head), for a few seconds; a hard affinity would pin the host to a node
        that may die. So a host just made, holding nothing yet, that landed elsewhere is made
        again, until it runs where it was asked to (or `tries` run out: it stays where it is)."""
        handle = self._create(name, node)
        for _ in range(tries - 1):
            if node is None:
                break
            where = ray.get(handle.ping.remote(), timeout=120)["node"]
            if where == node:
                break
            log.warning("host %s landed on node %s, not %s: placing it again", name, where, node)
            ray.kill(handle, no_restart=True)
            deadline = time.monotonic() + 30
            while self._existing(name) is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
            handle = self._create(name, node)
        return handle

    def attach(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for name in self.standing_hosts():
            while name not in self._handles:
                try:
                    self._handles[name] = ray.get_actor(name, namespace=NAMESPACE)
                except ValueError:  # the first process has not created it yet
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no Ray actor {name} after {timeout:.0f} s") from None
                    time.sleep(0.5)

    async def handle(self, kind: str, entity_id: int, create: bool = False):
        # Standing hosts are made at start (and restart themselves): never create on demand.
        return await super().handle(kind, entity_id, create=False)


class DedicatedPlacement(Placement):
    reconciles = False
    retires_empty_hosts = True

    def host_of(self, kind: str, entity_id: int) -> str:
        return f"{self.prefix}-{kind}-{entity_id}"

    def forget(self, kind: str, entity_id: int) -> None:
        self._handles.pop(self.host_of(kind, entity_id), None)


POLICIES: dict[str, type[Placement]] = {
    "sharded": ShardedPlacement,
    "dedicated": DedicatedPlacement,
}


def placement_for(settings: Settings, host_cls=None) -> Placement:
    try:
        policy = POLICIES[settings.placement]
    except KeyError:
        raise ValueError(
            f"HUB_PLACEMENT must be one of {', '.join(POLICIES)}, not {settings.placement!r}"
        ) from None
    return policy(settings, host_cls)
