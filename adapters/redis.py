"""Redis: the client factory and every key name the hub uses."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from adapters.mysql import MysqlDsn


def connect(url: str) -> aioredis.Redis:
    return aioredis.from_url(url, decode_responses=True, health_check_interval=30)


@dataclass(frozen=True)
class Keys:
    """Key names, prefixed by the deployment (its database name): two deployments sharing a
    Redis db must never see each other's providers or offers."""

    ns: str

    @classmethod
    def for_database(cls, mysql_url: str) -> Keys:
        return cls(MysqlDsn.parse(mysql_url).database)

    def skill(self, service_id: int) -> str:
        """GEO set of the available providers offering a service."""
        return f"{self.ns}:geo:svc:{service_id}"

    def offers(self, provider_id: int) -> str:
        """Hash orderId → offer payload: the offers open to a provider."""
        return f"{self.ns}:offers:{provider_id}"

    def offered(self, order_id: int) -> str:
        """Set of the providers a grab order was offered to."""
        return f"{self.ns}:offered:{order_id}"

    def rate(self, key: str, window: int) -> str:
        return f"{self.ns}:rl:{key}:{window}"
