"""Alibaba Cloud SMS (Dysmsapi 2017-05-25) through its official SDK: verification codes and
staff alerts. The endpoint is ALIYUN_SMS_BASE (the local sandbox unless set).

Phone numbers leave the hub only in the request to Alibaba Cloud; what is logged is masked.
"""

from __future__ import annotations

import logging

import orjson
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from Tea.exceptions import TeaException

from adapters.aliyun import AliyunError, access_key, sdk_config
from adapters.phones import mask
from adapters.settings import Settings

log = logging.getLogger("orderhub.sms")


class SmsGateway:
    def __init__(self, settings: Settings):
        key = access_key(
            settings.state_dir, settings.aliyun_access_key_id, settings.aliyun_access_key_secret
        )
        self.client = Client(sdk_config(settings.aliyun_sms_base, key))
        self.sign_name = settings.sms_sign_name
        self.code_template = settings.sms_template_code
        self.alert_template = settings.sms_template_alert

    async def send(self, phone: str, template: str, params: dict[str, str], out_id: str) -> str:
        """SendSms to one phone; the BizId. Raises AliyunError when it is refused."""
        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.sign_name,
            template_code=template,
            template_param=orjson.dumps(params).decode(),
            out_id=out_id,
        )
        try:
            answer = (await self.client.send_sms_async(request)).body
        except TeaException as exc:  # the gateway refused (signature, key) or no answer
            log.warning("SendSms to %s failed: %s %s", mask(phone), exc.code, exc.message)
            raise AliyunError(str(exc.code), str(exc.message)) from None
        except Exception as exc:  # connection refused, timeout: the SDK's own errors vary
            log.warning("SendSms to %s failed: %r", mask(phone), exc)
            raise AliyunError("Unavailable", repr(exc)) from None
        if answer.code != "OK":
            log.warning("SendSms to %s refused: %s %s", mask(phone), answer.code, answer.message)
            raise AliyunError(answer.code, answer.message)
        log.info("SMS %s sent to %s (%s)", template, mask(phone), answer.biz_id)
        return answer.biz_id

    async def send_code(self, phone: str, code: str, purpose: str) -> str:
        return await self.send(phone, self.code_template, {"code": code}, purpose)

    async def send_alert(self, phone: str, kind: str, order: str) -> str:
        return await self.send(phone, self.alert_template, {"kind": kind, "order": order}, kind)
