"""`rhythm dashboard`: a small server-rendered web UI over runs (see app.py)."""

from .app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
