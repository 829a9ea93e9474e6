"""Post an incident message to a Slack-compatible webhook ({"text": ...}), once, and say what
happened. The URL is read from an environment variable and never shown (it embeds a secret).
Must not import Textual.
"""

from __future__ import annotations

import os

from ..config import Config


def incident_webhook_env(config: Config) -> str | None:
    """incidents.webhook_url_env, else the first [[notifications.webhooks]] of kind slack."""
    if config.incidents.webhook_url_env:
        return config.incidents.webhook_url_env
    for hook in config.notifications.webhooks:
        if hook.kind == "slack":
            return hook.url_env
    return None


async def post_text(url_env: str, text: str, seconds: float = 10.0) -> tuple[bool, str]:
    """(delivered, what happened). Never raises: the operator reads the outcome. The whole post
    (connect, send, the answer) has ``seconds``; the answer's first 200 characters are quoted."""
    url = os.environ.get(url_env)
    if not url:
        return False, f"environment variable {url_env} is not set"
    from ..httpbounded import Answer, mask_url, new_client, request  # httpx: startup time

    async with new_client(seconds) as client:
        answer = await request(client, "POST", url, json={"text": text}, deadline=seconds)
    if not isinstance(answer, Answer):
        return False, mask_url(answer.detail, url)
    if 200 <= answer.status < 300:
        return True, f"HTTP {answer.status}"
    body = mask_url(answer.snippet(), url)
    return False, f"HTTP {answer.status}" + (f": {body}" if body else "")
