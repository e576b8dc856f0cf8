"""Serves people: run reports, workflow graphs, the dashboard."""
