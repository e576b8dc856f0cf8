"""Transactions on a pool of connections to Rhythm's database, and noticing when the database is away.

`Database` is the part of every `Store` that owns the pool: each call opens
one transaction with `tx()`, which translates connection errors into
`StorageError`, retries a BEGIN on a dead pooled connection, and tells
`Health`, which logs an outage once and the recovery once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from rhythm_runtime.errors import StorageError
from rhythm_runtime.execution import warm
from rhythm_runtime.storage.db import open_pool, storage_errors

log = logging.getLogger("rhythm")

# A transaction whose BEGIN fails on a dead pooled connection is retried this often (see _Tx).
BEGIN_ATTEMPTS = 3
# While the database is known to be away, a call waits this long for a connection (not the pool's 30 s),
# so callers notice (and a stopping worker stops) soon; the pool keeps reconnecting in the background.
DOWN_CHECKOUT_TIMEOUT = 2.0
# The pool gives up reconnecting after this long and starts over (at once) on the next request, so
# its exponential backoff (1 s, 2 s, 4 s, ...) does not keep a recovered database waiting.
RECONNECT_CYCLE = 3.0


class _UnclosablePipeline(logging.Filter):
    """Drops psycopg's warnings that a pipeline could not be closed, or its transaction rolled back, after an
    error (on a lost connection): the error itself propagates, and Health reports an outage once."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("error ignored terminating <psycopg.Pipeline")
                    or message.startswith("error ignored in rollback on <psycopg.Connection") and "pipeline=" in message)


_LOST_PIPELINE = _UnclosablePipeline()


class Database:
    """A pool of connections; `tx()` hands out one transaction at a time, on the calling thread's kept
    connection if it has one (`keep_connection`)."""

    def __init__(self, conninfo: str, max_size: int = 10):
        self.conninfo = conninfo
        self.health = Health()
        quiet = logging.getLogger("psycopg.pool")  # an INFO line per checkout, a WARNING per reconnect attempt
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.ERROR)  # Health reports an outage once instead
        psycopg_log = logging.getLogger("psycopg")
        if _LOST_PIPELINE not in psycopg_log.filters:
            psycopg_log.addFilter(_LOST_PIPELINE)
        self.pool = open_pool(conninfo, min_size=1, max_size=max_size, reconnect_timeout=RECONNECT_CYCLE,
                              kwargs={"row_factory": dict_row}, configure=_configure)
        self.kept: tuple[int, _Kept] | None = None  # (a thread, the connection it keeps)

    def keep_connection(self) -> None:
        """From now on the calling thread keeps its pooled connection between its transactions (see _Kept).

        A worker's loop runs what no other thread does (its polls and housekeeping, each once a second or
        less), and Postgres plans a statement per connection until it is warm: on one connection each is
        planned once per worker, not on each pooled connection it happens to get (reclaim_lost_tasks takes
        about 6 ms to plan); and lease renewal does not wait for a connection the task threads hold."""
        self.kept = (threading.get_ident(), _Kept(self.pool))

    def pool_here(self) -> ConnectionPool | _Kept:
        """Where the calling thread takes its connections from."""
        kept = self.kept
        return kept[1] if kept is not None and kept[0] == threading.get_ident() else self.pool

    def close(self) -> None:
        if self.kept is not None:
            self.kept[1].release()
        self.pool.close()

    def tx(self, pipeline: bool = False, single: bool = False):
        """A pooled connection in a transaction, with storage errors translated.

        `pipeline`: psycopg's pipeline mode, so BEGIN travels with the first
        statement and every statement whose result is not fetched travels with
        COMMIT (a step's writes cost one round trip). Errors then surface at
        the next fetch or at COMMIT.
        `single`: one statement, its own transaction (autocommit: no BEGIN and
        no COMMIT, one round trip).
        """
        return _Single(self) if single and not pipeline else _Tx(self, pipeline, single)


class _JsonLoader(Loader):
    """json values as Python data; a run's snapshot this process stored last, without parsing it again
    (execution/warm.py)."""

    def load(self, data) -> object:
        return warm.STATES.loads(data if type(data) is bytes else bytes(data))


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("json", _JsonLoader)


class _Kept:
    """A pooled connection one thread keeps between its transactions, with the pool's getconn/putconn.

    It is taken from the pool when the thread has none; one that comes back broken (or still in a
    transaction) goes back to the pool, which replaces it (or rolls it back), and the thread's next
    transaction takes another, as any would. A transaction nested in another of the thread's gets a pooled
    one. The kept connection prepares a statement at its first execution (psycopg's default: the fifth), so
    what runs once a second is warm after six runs, not eleven (five custom plans, then the generic one)."""

    __slots__ = ("pool", "conn", "lent", "threshold")

    def __init__(self, pool: ConnectionPool):
        self.pool = pool
        self.conn: psycopg.Connection | None = None
        self.lent = False  # the kept connection is in a transaction of the thread's
        self.threshold: int | None = None  # the kept connection's prepare_threshold in the pool

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        if self.lent:
            return self.pool.getconn(timeout)
        if self.conn is None:
            self.conn = self.pool.getconn(timeout)
            self.threshold, self.conn.prepare_threshold = self.conn.prepare_threshold, 0
        self.lent = True
        return self.conn

    def putconn(self, conn: psycopg.Connection) -> None:
        if conn is not self.conn:
            self.pool.putconn(conn)
            return
        self.lent = False
        if conn.pgconn.transaction_status != TransactionStatus.IDLE:
            self.release()

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None):
        """As the pool's: commits or rolls back at the end (`with conn`), then puts the connection back."""
        conn = self.getconn(timeout)
        try:
            with conn:
                yield conn
        finally:
            self.putconn(conn)

    def release(self) -> None:
        """Give the kept connection back to the pool, as it was (when it broke, or before the pool closes)."""
        conn, self.conn = self.conn, None
        if conn is not None and not self.lent:
            conn.prepare_threshold = self.threshold
            self.pool.putconn(conn)


class _Tx:
    """One transaction on a pooled connection; every connection-level error leaves as StorageError.

    Errors are translated wherever they happen: at BEGIN, inside, or at COMMIT.
    A BEGIN that fails has run nothing, so it is retried on a fresh connection:
    after Postgres restarts, the pool still holds connections to the old
    server, and the first transaction on each would otherwise fail.
    """

    def __init__(self, db: Database, pipeline: bool = False, single: bool = False):
        self.db = db
        self.pipeline = pipeline
        self.single = single
        self.pipe: psycopg.Pipeline | None = None

    def sync(self) -> None:
        """Send what is queued and wait for it with a Sync, not a Flush. Do it after the first statement:
        until a Sync is answered psycopg believes no transaction is open (a `conn.transaction()` would
        COMMIT instead of making a savepoint), and Postgres reports the session 'active', not 'idle in
        transaction', while Python works on the results."""
        if self.pipe is not None:
            self.pipe.sync()

    def __enter__(self):
        self.began = time.monotonic()
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(storage_errors(self.db.conninfo))
            conn = self._begin(stack)
        except BaseException as e:
            self.db.health.failed(e)
            if not stack.__exit__(type(e), e, e.__traceback__):
                raise
        self.stack = stack
        return conn

    def _begin(self, stack: contextlib.ExitStack):
        for attempt in range(BEGIN_ATTEMPTS):
            inner = contextlib.ExitStack()
            timeout = DOWN_CHECKOUT_TIMEOUT if self.db.health.down_since is not None else None
            conn = inner.enter_context(self.db.pool_here().connection(timeout))  # PoolTimeout: the database is away
            try:
                if self.pipeline:
                    self.pipe = inner.enter_context(_pipelined(conn))
                elif self.single:
                    inner.enter_context(_autocommit(conn))
                else:
                    inner.enter_context(conn.transaction())
            except psycopg.OperationalError as e:
                inner.__exit__(type(e), e, e.__traceback__)  # the pool replaces the broken connection
                if attempt == BEGIN_ATTEMPTS - 1 or not is_outage(e):
                    raise
                self.db.health.failed(e)  # the next checkout waits less: the server may be away
                self.db.pool.check()  # drop the other connections to a server that went away
                continue
            stack.enter_context(inner)
            return conn

    def __exit__(self, *exc):
        try:
            suppressed = self.stack.__exit__(*exc)
        except BaseException as e:
            self.db.health.failed(e)
            raise
        if exc[0] is None:
            self.db.health.ok(self.began)
        else:
            self.db.health.failed(exc[1])
        return suppressed


class _Single:
    """tx(single=True): one statement in autocommit on a pooled connection, with errors translated as in _Tx.
    It is a warm step's and a claim's whole transaction, so it is kept lean (no ExitStack and no generator
    context managers: about half of _Tx's 24 µs of client CPU around a statement). There is no BEGIN to retry:
    a statement on a dead pooled connection fails as an outage, and the pool replaces the connection."""

    __slots__ = ("db", "pool", "conn", "began")

    def __init__(self, db: Database):
        self.db = db

    def __enter__(self) -> psycopg.Connection:
        db = self.db
        self.began = time.monotonic()
        self.pool = db.pool_here()
        try:
            with storage_errors(db.conninfo):
                self.conn = self.pool.getconn(DOWN_CHECKOUT_TIMEOUT if db.health.down_since is not None else None)
        except BaseException as e:
            db.health.failed(e)
            raise
        self.conn.autocommit = True
        return self.conn

    def __exit__(self, kind, exc, tb) -> bool:
        db, conn = self.db, self.conn
        with contextlib.suppress(psycopg.Error):
            conn.autocommit = False
        self.pool.putconn(conn)
        if exc is None:
            db.health.ok(self.began)
            return False
        try:
            with storage_errors(db.conninfo):
                raise exc
        except BaseException as e:
            db.health.failed(e)
            raise


@contextlib.contextmanager
def _pipelined(conn: psycopg.Connection):
    """A transaction in pipeline mode whose BEGIN travels with the first statement and whose COMMIT travels
    with the last writes (psycopg's transaction() syncs after BEGIN and before COMMIT: two round trips more).

    The connection is in autocommit while it runs, so psycopg sends no BEGIN
    of its own; it is put back for the pool. A failed transaction is rolled
    back after the pipeline's sync (statements queued after an error are
    skipped by the server until then).
    """
    conn.autocommit = True
    try:
        with conn.pipeline() as pipe:
            conn.execute("BEGIN")
            yield pipe
            conn.execute("COMMIT")
    except BaseException:
        if conn.pgconn.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            with contextlib.suppress(psycopg.Error):  # a broken connection: the pool replaces it
                conn.execute("ROLLBACK")
        raise
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.autocommit = False


@contextlib.contextmanager
def _autocommit(conn: psycopg.Connection):
    """The connection in autocommit while it is lent (each statement its own transaction); put back for the pool."""
    conn.autocommit = True
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.autocommit = False


def is_outage(exc: BaseException | None) -> bool:
    """Whether an error means the database is unreachable (down, restarting, network), not a failed statement."""
    if isinstance(exc, StorageError):
        exc = exc.__cause__
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate or ""  # none: the client lost the connection
        return state == "" or state.startswith(("08", "57P"))  # connection exception, operator intervention
    return isinstance(exc, psycopg.InterfaceError)


class Health:
    """Logs the database going away once, and coming back once, however many calls fail in between.

    It is back when a transaction commits that began a while (QUIET seconds) after the last failure:
    while a server shuts down, a connection whose backend has not yet been told may still commit.
    """

    QUIET = 0.5

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.last_failure = 0.0
        self.lock = threading.Lock()

    def failed(self, exc: BaseException | None) -> None:
        if not is_outage(exc):
            return
        with self.lock:
            self.last_failure = time.monotonic()
            if self.down_since is None:
                self.down_since = self.last_failure
                reason = next((x.strip() for x in str(exc).splitlines() if x.strip()), type(exc).__name__)
                log.warning("database unavailable, retrying with backoff until it is back: %s", reason)

    def ok(self, began: float) -> None:
        """A transaction that began at `began` committed."""
        if self.down_since is None or began < self.last_failure + self.QUIET:
            return
        with self.lock:
            if self.down_since is not None and began >= self.last_failure + self.QUIET:
                log.info("database reachable again after %.1fs", time.monotonic() - self.down_since)
                self.down_since = None

