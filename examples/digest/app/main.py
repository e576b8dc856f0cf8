"""The nightly digest app: `rhythm worker app.main:app --queues default,email` runs it.

E-mails go through the "email" queue: at most 10 sends a second across all workers (an e-mail
provider's limit), and one at a time per recipient (the Task.run `key`).
"""

from rhythm import RhythmApp

from app import tasks  # noqa: F401  (registers the @task functions)

app = RhythmApp("workflows")
app.queue("email", rate="10/1s", key_concurrency=1)
