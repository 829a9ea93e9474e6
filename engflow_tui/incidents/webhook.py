"""Post an incident message to a Slack-compatible webhook ({"text": ...}), once, and say what
happened. The URL is read from an environment variable and never shown (it embeds a secret).
Must not import Textual.
"""

from __future__ import annotations

import os
import re

from ..config import Config


def _without_url(message: str, url: str) -> str:
    """The exception's text with the URL and its longer pieces (tokens live there) masked."""
    message = message.replace(url, "<webhook URL>")
    for piece in sorted(set(re.split(r"[/?#&=@:\[\]]+", url)), key=len, reverse=True):
        if len(piece) >= 6:
            message = message.replace(piece, "…")
    return message


def incident_webhook_env(config: Config) -> str | None:
    """incidents.webhook_url_env, else the first [[notifications.webhooks]] of kind slack."""
    if config.incidents.webhook_url_env:
        return config.incidents.webhook_url_env
    for hook in config.notifications.webhooks:
        if hook.kind == "slack":
            return hook.url_env
    return None


async def post_text(url_env: str, text: str, seconds: float = 10.0) -> tuple[bool, str]:
    """(delivered, what happened). Never raises: the operator reads the outcome."""
    url = os.environ.get(url_env)
    if not url:
        return False, f"environment variable {url_env} is not set"
    import httpx  # only when a message is posted: startup time

    try:
        async with httpx.AsyncClient(timeout=seconds) as client:
            response = await client.post(url, json={"text": text})
    except httpx.TimeoutException:
        return False, f"no answer within {seconds:g}s"
    except Exception as exc:  # noqa: BLE001 - httpx.InvalidURL and kin are no HTTPError
        return False, _without_url(
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, url
        )
    if response.status_code < 300:
        return True, f"HTTP {response.status_code}"
    body = response.text.strip().replace("\n", " ")[:200]
    return False, f"HTTP {response.status_code}" + (f": {body}" if body else "")
