"""Tasks of the order-fulfillment example."""

from rhythm import task


@task("reserve-stock")
def reserve_stock(payload: dict) -> dict:
    return {"id": f"res-{payload['sku']}-{payload['qty']}"}


@task("create-shipment")
def create_shipment(payload: dict) -> dict:
    return {"trackingId": f"trk-{payload['orderId']}-{payload['reservation']}"}


@task("charge-card")
def charge_card(payload: dict) -> dict:
    if payload["amount"] > 1000:
        raise RuntimeError("card declined")
    return {"id": f"rcpt-{payload['orderId']}"}


@task("cancel-shipment")
def cancel_shipment(payload: dict) -> None:
    return None
