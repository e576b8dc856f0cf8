"""Tasks of the nightly digest example: the e-mails go through the rate-limited "email" queue."""

from rhythm import task

SUBSCRIBERS = {
    "eu": [{"email": f"reader{i}@example.com", "topics": ["rhythm", "postgres"][: 1 + i % 2]} for i in range(12)],
}


@task("list-subscribers")
def list_subscribers(payload: dict) -> list:
    return SUBSCRIBERS.get(payload["region"], [])


@task("send-digest", queue="email", retries=2)
def send_digest(payload: dict) -> dict:
    return {"to": payload["to"], "stories": 3 * len(payload["topics"])}
