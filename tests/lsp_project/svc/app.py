"""The app of the language server's tests (tests/test_lsp.py)."""

from rhythm import RhythmApp, task


@task("get-user")
def get_user(payload: dict) -> dict:
    return {"email": "a@example.com"}


@task("send-email")
def send_email(payload: dict) -> dict:
    """Send one welcome e-mail."""
    return {}


app = RhythmApp("workflows")
