"""What a worker tells the outside world about runs and tasks: logs, spans and metrics.

The ids of the run and task a thread works on live in a context variable;
`ContextFilter` copies them onto log records, so every line logged meanwhile
(Rhythm's, and a task's own when the CLI set up logging) carries them.
Spans are made when opentelemetry is importable (the `rhythm[otel]` extra)
and a tracer provider is set; otherwise they cost a test or two. Metrics (metrics.py) exist only when
a worker serves them. The worker calls the `Observer` hooks below.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from contextvars import ContextVar
from datetime import datetime, timezone

try:
    from opentelemetry import trace as otel
except ImportError:  # the rhythm[otel] extra is not installed
    otel = None

log = logging.getLogger("rhythm")

CONTEXT_FIELDS = ("run_id", "task_id", "task", "workflow")
_context: ContextVar[dict] = ContextVar("rhythm_log_context", default={})
# Attributes every LogRecord has; the others came from extra= or the context.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# -- logs ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def log_context(**ids):
    """Records logged inside carry these ids (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current run and task ids onto each record; values passed in extra= win."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


class TextFormatter(logging.Formatter):
    """The usual line, then the ids it is about: `... message [run_id=… task=…]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = " ".join(f"{k}={record.__dict__[k]}" for k in CONTEXT_FIELDS if k in record.__dict__)
        return f"{line} [{ids}]" if ids else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids and any extra= fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """The CLI's logging: one stderr handler, ids on every record, text or JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])


# Rhythm's own records carry the ids whatever handlers the program installs.
log.addFilter(ContextFilter())


# -- the worker's hooks -----------------------------------------------------------------------------

class Observer:
    """Log context, spans and metrics around a worker's tasks and activations."""

    def __init__(self, metrics=None):
        self.metrics = metrics  # a metrics.Metrics, or None when not served
        self.tracer = otel.get_tracer("rhythm") if otel is not None else None  # follows a provider set later
        self.local = threading.local()  # .finished: runs that ended in the store call under way

    def instrument(self, engine) -> None:
        """Observe every activation the engine runs (inline children and steps run ahead of their row too: an
        activation is observed where it runs, once) and every run it ends."""
        advance, finish, run_ahead, saved_ahead = engine.advance, engine.finish, engine.run_ahead, engine.saved_ahead

        def observed_advance(conn, row, *args, **kwargs):
            if kwargs.get("ahead") is not None:  # run ahead already (observed_run_ahead)
                return advance(conn, row, *args, **kwargs)
            with self.activation(row):
                return advance(conn, row, *args, **kwargs)

        def observed_run_ahead(conn, row, *args, **kwargs):
            with self.activation(row):
                return run_ahead(conn, row, *args, **kwargs)

        def observed_finish(conn, row, status, output, error, *args, **kwargs):
            self._finished(row["id"], row["workflow_name"], status, error)
            return finish(conn, row, status, output, error, *args, **kwargs)

        def observed_saved_ahead(ahead):
            if ahead.outcome.status != "suspended":  # a run ended by the statement that recorded its task
                self._finished(ahead.run_id, ahead.stamp[1], ahead.outcome.status, None)
            return saved_ahead(ahead)

        engine.advance, engine.finish = observed_advance, observed_finish
        engine.run_ahead, engine.saved_ahead = observed_run_ahead, observed_saved_ahead

    def _finished(self, run_id: str, workflow: str, status: str, error) -> None:
        finished = getattr(self.local, "finished", None)
        if finished is not None:
            finished.append((run_id, workflow, status, error))

    def store_call(self) -> "_StoreCall":
        """Around a store call that may end runs: they are logged only once it has committed."""
        return _StoreCall(self)

    @staticmethod
    def _log_finished(finished: list) -> None:
        for run_id, workflow, status, error in finished:
            ids = {"run_id": run_id, "workflow": workflow}
            if status == "failed":
                error = error or {}
                where = f" ({error['file']}:{error.get('line')})" if error.get("file") else ""
                log.error("run failed: %s: %s%s", error.get("type"), error.get("message"), where,
                          extra={**ids, "error": error})
            else:
                log.debug("run %s", status, extra=ids)

    def activation(self, row: dict) -> "_Activation":
        """One activation of a run; what it ended is forgotten if it raises (its writes roll back)."""
        return _Activation(self, row)

    def task(self, task: dict) -> "_Task":
        """Around running and recording a task; `with` gives done(ok, value), to call once it has run."""
        return _Task(self, task)

    def exception(self, exc: BaseException) -> None:
        """A task raised: its span records the exception (the worker keeps only its message)."""
        if self._tracing():
            otel.get_current_span().record_exception(exc)

    def _task_done(self, task: dict, span, ok: bool, value, seconds: float) -> None:
        attempt, most = task["attempts"], task["max_attempts"]
        outcome = "completed" if ok else "failed" if attempt >= most else "failed_attempt"
        if ok:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("task completed in %.1f ms", seconds * 1000, extra={"duration_ms": round(seconds * 1000, 3)})
        else:
            extra = {"attempt": attempt, "max_attempts": most, "error": value.get("message"),
                     "duration_ms": round(seconds * 1000, 3)}
            if value.get("exception"):  # the Python exception's class (the workflow sees a TaskError)
                extra["exception"] = value["exception"]
            # a last failure reaches the workflow (WARNING: it may catch it); one to be retried is routine
            log.log(logging.WARNING if outcome == "failed" else logging.INFO, "task %s failed on attempt %d/%d%s: %s",
                    task["name"], attempt, most, "" if outcome == "failed" else " (will retry)", value.get("message"),
                    extra=extra)
            if value.get("traceback"):
                log.debug("task %s raised on attempt %d/%d:\n%s", task["name"], attempt, most,
                          value["traceback"].rstrip("\n"), extra={"attempt": attempt, "max_attempts": most})
        if self.metrics is not None:
            self.metrics.task_done(task["name"], outcome, seconds)
        if span is not None:
            span.set_attribute("rhythm.outcome", outcome)
            if not ok:
                span.set_status(otel.Status(otel.StatusCode.ERROR, value.get("message")))

    def _tracing(self) -> bool:
        """Whether spans go anywhere: with no provider set, even no-op spans would cost ~10 µs a task."""
        return self.tracer is not None and not isinstance(otel.get_tracer_provider(), otel.ProxyTracerProvider)

    def _span(self, name: str, attributes: dict):
        """An entered span, or None when spans go nowhere; leave it with _leave."""
        if not self._tracing():
            return None
        scope = self.tracer.start_as_current_span(name, attributes=attributes)
        return scope, scope.__enter__()


def _leave(span, exc: tuple) -> None:
    if span is not None:
        span[0].__exit__(*exc)


# The hooks' scopes are classes, not generator context managers: they surround every task and activation, where
# a generator, its context manager and the log context's own cost about as much as the rest of the bookkeeping.

class _StoreCall:
    __slots__ = ("observer", "finished")

    def __init__(self, observer: Observer):
        self.observer = observer

    def __enter__(self) -> None:
        self.observer.local.finished = self.finished = []

    def __exit__(self, kind, exc, tb) -> bool:
        self.observer.local.finished = None
        if kind is None:  # runs a call that raised ended were rolled back
            self.observer._log_finished(self.finished)
        return False


class _Activation:
    __slots__ = ("observer", "row", "finished", "mark", "token", "span")

    def __init__(self, observer: Observer, row: dict):
        self.observer, self.row = observer, row

    def __enter__(self) -> None:
        observer, row = self.observer, self.row
        workflow = row["workflow_name"]
        self.finished = getattr(observer.local, "finished", None)
        self.mark = len(self.finished) if self.finished is not None else 0
        if observer.metrics is not None:
            observer.metrics.activations.labels(workflow).inc()
        self.token = _context.set({**_context.get(), "run_id": row["id"], "workflow": workflow})
        self.span = observer._span("rhythm.activation", {"rhythm.run_id": row["id"], "rhythm.workflow": workflow})

    def __exit__(self, *exc) -> bool:
        try:
            _leave(self.span, exc)
        finally:
            _context.reset(self.token)
            if exc[0] is not None and self.finished is not None:
                del self.finished[self.mark:]
        return False


class _Task:
    __slots__ = ("observer", "task", "token", "span", "started")

    def __init__(self, observer: Observer, task: dict):
        self.observer, self.task = observer, task

    def __enter__(self):
        task = self.task
        name, run_id = task["name"], task["run_id"]
        ids = {"task_id": task["id"], "task": name} if run_id is None else \
            {"run_id": run_id, "task_id": task["id"], "task": name}
        self.token = _context.set({**_context.get(), **ids})
        attributes = {"rhythm.task_id": task["id"], "rhythm.task": name, "rhythm.attempt": task["attempts"]}
        if run_id is not None:
            attributes["rhythm.run_id"] = run_id
        self.span = self.observer._span(f"rhythm.task {name}", attributes)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task started, attempt %d/%d", task["attempts"], task["max_attempts"])
        self.started = time.perf_counter()
        return self.done

    def done(self, ok: bool, value) -> None:
        self.observer._task_done(self.task, self.span and self.span[1], ok, value, time.perf_counter() - self.started)

    def __exit__(self, *exc) -> bool:
        try:
            _leave(self.span, exc)
        finally:
            _context.reset(self.token)
        return False
