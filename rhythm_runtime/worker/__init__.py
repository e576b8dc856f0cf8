"""The worker process: its loop, logging and tracing, metrics."""
