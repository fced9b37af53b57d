"""Which Ray actor hosts an entity: the placement policy.

`sharded` (default): HUB_HOSTS long-lived host actors; entity id % hosts picks one, each holds
thousands of entities. `dedicated`: one Ray actor per entity (the literal form; a whole
process each, so only for small deployments and as the benchmark baseline). The order and
provider code is the same under both.
"""

from __future__ import annotations

import asyncio

import ray

from adapters.mysql import MysqlDsn
from adapters.settings import Settings

NAMESPACE = "orderhub"


def host_options(name: str) -> dict:
    # num_cpus=0: hosts are I/O bound and dedicated mode runs hundreds of them on 2 cores.
    # max_restarts=-1: a crashed host comes back and reloads its entities from MySQL.
    return dict(
        name=name,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        max_task_retries=0,
        max_concurrency=1000,
        num_cpus=0,
    )


class Placement:
    def __init__(self, settings: Settings):
        if settings.placement not in ("sharded", "dedicated"):
            raise ValueError(
                f"HUB_PLACEMENT must be sharded or dedicated, not {settings.placement!r}"
            )
        self.settings = settings
        self.policy = settings.placement
        self.hosts = max(1, settings.hosts)
        self.prefix = f"oh-{MysqlDsn.parse(settings.mysql_url).database}"
        self._handles: dict[str, ray.actor.ActorHandle] = {}

    def shard(self, entity_id: int) -> int:
        return entity_id % self.hosts

    def name(self, kind: str, entity_id: int) -> str:
        if self.policy == "sharded":
            return f"{self.prefix}-host-{self.shard(entity_id)}"
        return f"{self.prefix}-{kind}-{entity_id}"

    def is_local(self, host_name: str, kind: str, entity_id: int) -> bool:
        return self.name(kind, entity_id) == host_name

    def start_hosts(self) -> list:
        """Create (or find, after a hub restart) the sharded hosts. Sync: call at start-up."""
        if self.policy != "sharded":
            return []
        from actors.host import EntityHost

        handles = []
        for i in range(self.hosts):
            name = f"{self.prefix}-host-{i}"
            handle = EntityHost.options(**host_options(name)).remote(self.settings, name, None)
            self._handles[name] = handle
            handles.append(handle)
        return handles

    async def handle(self, kind: str, entity_id: int, create: bool = False):
        """The handle of the entity's host, or None (dedicated, not running, not `create`)."""
        name = self.name(kind, entity_id)
        if (handle := self._handles.get(name)) is not None:
            return handle
        if self.policy == "dedicated" and create:
            from actors.host import EntityHost

            handle = EntityHost.options(**host_options(name)).remote(
                self.settings, name, (kind, entity_id)
            )
        else:
            try:
                # get_actor blocks on the GCS: keep it off the event loop.
                handle = await asyncio.to_thread(ray.get_actor, name, namespace=NAMESPACE)
            except ValueError:
                return None
        self._handles[name] = handle
        return handle

    def forget(self, kind: str, entity_id: int) -> None:
        if self.policy == "dedicated":
            self._handles.pop(self.name(kind, entity_id), None)
