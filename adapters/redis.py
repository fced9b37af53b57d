"""Redis: the client factory and every key name the hub uses."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from adapters.mysql import MysqlDsn


def connect(url: str, max_connections: int = 200) -> aioredis.Redis:
    """A client whose pool waits (up to 10 s) for a free connection in a burst, rather than
    failing, and never opens more than `max_connections`."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        decode_responses=True,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


@dataclass(frozen=True)
class Keys:
    """Key names, prefixed by the deployment (its database name): two deployments sharing a
    Redis db must never see each other's providers or offers."""

    ns: str

    @classmethod
    def for_database(cls, mysql_url: str) -> Keys:
        return cls(MysqlDsn.parse(mysql_url).database)

    def skill(self, service_id: int) -> str:
        """GEO set of the online (approved) providers offering a service."""
        return f"{self.ns}:geo:svc:{service_id}"

    def cards(self) -> str:
        """Hash providerId → the provider's dispatch card (JSON: state, load, stats)."""
        return f"{self.ns}:cards"

    def dispatch_version(self) -> str:
        """Counter bumped whenever areas or dispatch policies change (hosts re-read them)."""
        return f"{self.ns}:dispatch-version"

    def fixes(self) -> str:
        """Hash providerId → epoch seconds of the provider's last location fix."""
        return f"{self.ns}:fixes"

    def offers(self, provider_id: int) -> str:
        """Hash orderId → offer payload: the offers open to a provider."""
        return f"{self.ns}:offers:{provider_id}"

    def offered(self, order_id: int) -> str:
        """Set of the providers a grab order was offered to."""
        return f"{self.ns}:offered:{order_id}"

    def origin(self) -> str:
        """The identity of the database the derived keys were built from (actors/rebuild.py):
        another one means they belong to a database that is gone."""
        return f"{self.ns}:origin"

    def derived(self) -> list[str]:
        """Patterns of every key derived from MySQL (rebuilt on start; wiped when the
        database is another one). Rate limits and the dispatch version are not derived."""
        ns = self.ns
        return [self.cards(), self.fixes(), f"{ns}:geo:svc:*", f"{ns}:offers:*", f"{ns}:offered:*"]

    def rate(self, key: str, window: int) -> str:
        return f"{self.ns}:rl:{key}:{window}"
