"""The onboarding app: `rhythm worker app.main:app` runs it; `python -m app.main` starts a run."""

import asyncio

from rhythm import RhythmApp, RhythmClient

from app import tasks  # noqa: F401  (registers the @task functions)

app = RhythmApp("workflows")


async def main() -> None:
    client = RhythmClient()
    handle = await client.start_workflow("onboard_user", {"userId": 42, "followUpSeconds": 1})
    print(handle.id, await handle.result())


if __name__ == "__main__":
    asyncio.run(main())
