"""Tasks of the fan-out example."""

from rhythm import task


@task("make-thumbnail")
def make_thumbnail(payload: dict) -> dict:
    return {"url": payload["url"].replace(".jpg", f"_{payload['width']}.jpg"), "bytes": 1000 + len(payload["url"])}
