"""Tasks of the approvals example."""

from rhythm import task


@task("submit-expense")
def submit_expense(payload: dict) -> dict:
    return {"id": f"exp-{payload['employee']}-{payload['amount']}", "amount": payload["amount"]}


@task("pay")
def pay(payload: dict) -> dict:
    return {"paid": payload["amount"]}


@task("escalate")
def escalate(payload: dict) -> dict:
    return {"escalated": payload["id"]}
