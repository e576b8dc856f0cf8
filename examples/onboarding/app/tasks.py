"""Tasks of the onboarding example: plain Python functions."""

from rhythm import task

USERS = {42: {"id": 42, "name": "Ada", "email": "ada@example.com"}}


@task("get-user")
def get_user(payload: dict) -> dict:
    return USERS.get(payload["userId"], {"id": payload["userId"], "name": "Guest", "email": "guest@example.com"})


@task("send-email", retries=3)
def send_email(payload: dict) -> dict:
    return {"sent": True, "to": payload["to"], "template": payload["template"]}


@task("notify-support")
def notify_support(payload: dict) -> None:
    return None


@task("get-activity")
def get_activity(payload: dict) -> dict:
    return {"logins": 0 if payload["userId"] == 42 else 3}
