"""Talks to Postgres: settings, connections and migrations, the embedded server, the client store, the worker engine."""
