"""Staff alerts by SMS, for the staff who asked for them (PUT /api/me/sms-alerts).

The console's alerts panel gets every alert (console.update); this adds an SMS to each staff
member who asked, at most one per kind every ten minutes, so a burst of alerts (a whole area
out of numbers) is one message, not a hundred.
"""

from __future__ import annotations

import logging

from adapters import staff_sms
from adapters.aliyun import AliyunError
from adapters.settings import Settings
from adapters.sms import SmsGateway
from adapters.virtual_numbers import phone_vault

log = logging.getLogger("orderhub.alerts")

QUIET_S = 600


class StaffSmsAlerts:
    def __init__(self, settings: Settings, db, redis, keys):
        self.settings = settings
        self.db = db
        self.redis = redis
        self.ns = keys.ns
        self.sms = SmsGateway(settings)

    async def send(self, kind: str, order_no: str) -> int:
        """An SMS about `kind` (Chinese, ≤ 35 characters: the template's limit) to each staff
        member who asked and has not had one of this kind in ten minutes; how many went."""
        try:
            recipients = await staff_sms.alert_recipients(self.db)
            if not recipients:
                return 0
            vault = phone_vault(self.settings.state_dir)
            sent = 0
            for r in recipients:
                quiet = f"{self.ns}:sms-alert:{r['id']}:{kind}"
                if not await self.redis.set(quiet, "1", nx=True, ex=QUIET_S):
                    continue
                await self.sms.send_alert(vault.decrypt(r["phone_enc"]), kind, order_no[-20:])
                sent += 1
            return sent
        except AliyunError as exc:  # the console still has the alert
            log.warning("staff alert SMS failed: %s", exc)
            return 0
