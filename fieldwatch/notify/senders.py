"""Pluggable senders: one per channel, each `send(message, user)` or raise.

A sender raises `PermanentError` when retrying cannot help (no address, the
channel not set up, the address refused) and any other exception for a
passing failure (network, server busy), which is retried with backoff.
Add a channel by adding a class to SENDERS.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

TIMEOUT = 20


class PermanentError(Exception):
    """Delivery cannot succeed by trying again."""


class EmailSender:
    """E-mail over SMTP (FIELDWATCH_SMTP_HOST/PORT/USER/PASSWORD/FROM/STARTTLS)."""

    channel = "email"

    def __init__(self, config) -> None:
        self.host = config.get("SMTP_HOST")
        self.port = int(config.get("SMTP_PORT") or 25)
        self.user = config.get("SMTP_USER")
        self.password = config.get("SMTP_PASSWORD")
        self.sender = config.get("SMTP_FROM") or "fieldwatch@localhost"
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        if self.port == 465:  # implicit TLS ("SMTPS")
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if self.user:
            smtp.login(self.user, self.password or "")
        self._smtp = smtp
        return smtp

    def send(self, message, user) -> None:
        if not self.host:
            raise PermanentError("未配置邮件服务器 FIELDWATCH_SMTP_HOST (SMTP not configured)")
        if not user or not user.email:
            raise PermanentError("收件人没有邮箱 (the user has no e-mail address)")
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = formataddr(("有事来协商 fieldwatch", self.sender))
        mail["To"] = formataddr((user.name, user.email))
        mail["Message-ID"] = make_msgid(idstring=f"fw-outbox-{message.id}")
        mail.set_content(message.body)
        try:
            self._connect().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"邮箱被拒收 (address refused): {exc.recipients}") from exc
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


class WebhookSender:
    """A group robot (企业微信/政务微信 style): JSON POST {"msgtype":"text","text":{...}}."""

    channel = "webhook"

    def __init__(self, config) -> None:
        self.url = config.get("WEBHOOK_URL")

    def payload(self, message, user) -> dict:
        content = f"{message.subject}\n{message.body}"
        text: dict = {"content": content}
        if user is not None:
            text["content"] = f"@{user.name} {content}"
            if user.phone:
                # the robot @-mentions the group member with this mobile number
                text["mentioned_mobile_list"] = [user.phone]
        return {"msgtype": "text", "text": text}

    def send(self, message, user) -> None:
        if not self.url:
            raise PermanentError(
                "未配置工作群机器人 FIELDWATCH_WEBHOOK_URL (webhook not configured)"
            )
        body = json.dumps(self.payload(message, user), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401, 403, 404):
                raise PermanentError(f"机器人地址拒绝请求 HTTP {exc.code}") from exc
            raise RuntimeError(f"HTTP {exc.code}") from exc
        try:
            reply = json.loads(answer or b"{}")
        except ValueError:
            return  # not a robot that answers JSON; a 2xx is success
        if isinstance(reply, dict) and reply.get("errcode") not in (None, 0):
            # e.g. 45009 = too many messages this minute: try again later
            raise RuntimeError(f"errcode {reply.get('errcode')}: {reply.get('errmsg')}")

    def close(self) -> None:
        pass


SENDERS = {"email": EmailSender, "webhook": WebhookSender}


def senders_for(config) -> dict:
    """Return one sender per channel, built from the app config."""
    return {channel: cls(config) for channel, cls in SENDERS.items()}
