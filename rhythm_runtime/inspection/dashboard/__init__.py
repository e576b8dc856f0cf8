"""`rhythm dashboard`: a small server-rendered web UI over runs (see app.py)."""

from rhythm_runtime.inspection.dashboard.app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
