"""End-to-end throughput on one Postgres with real worker processes, as a ratio to the machine's ceiling.

M workflows x K sequential tasks at W = 1, 2 and 4 worker processes, started
by C client threads (one client, `--clients`; one thread's starts, each a commit
that waits for the WAL flush, are slower than the workers: the figure would be
the client's start rate, not the workers'). Each
measurement of ours is interleaved with the ceiling's cell at the same W
(`../shared/bench/pg_ceiling.py`, `queue/b1/plain/cW/sync-on`: a bare claim +
complete-and-insert-next loop in psycopg on a stock embedded Postgres), so the
ratio compares two figures taken under the same load. Reports tasks/s, the
ratio, start-to-finish p50/p99, task-done-to-next-task-started (across
processes: the previous task's return and the next one's start are both
stamped by the task functions), how long the starts took of the whole (near
1.0 with a start-to-finish p50 of a few tasks' time: the client, not the
workers, set the pace), commits per task (read after every worker exited, so
all stats are flushed; they include read-only transactions, such as each
listening session's read of every NOTIFY) and WAL flushes per task (the
commits that wait for the disk, fewer than the writing commits when several share
a flush; from pg_stat_io, so the whole server's), CPU per task (worker processes from
/proc, and the Postgres backends serving them, also from /proc), and the worker
processes' context switches per task (all their threads, from /proc).
The whole lasts from the first start to the last run's `finished_at` (not to
when the client's polling noticed it). Before it, the workers do `--warmup`
runs (default: as many as measured) that are not counted, as the ceiling
warms up outside its window: a worker's pool opens its connections on demand,
and each new backend's first statements (connection start, catalog caches,
plans, psycopg's prepare after 5 executions per connection) cost several
times a warm one's: 8 backends a worker started inside a 1,000-task window,
32 at W=4 (`--warmup 0`: as before session 12; bench/README.md, session
12 `warmclaim`). Run:
`.venv/bin/python bench/throughput.py [--m 200 --k 5 --workers 1,2,4 --clients 4 --reps 2 --warmup M --queue-limit N]`;
with --queue-limit the tasks' queue has that concurrency limit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402

from rhythm import SyncRhythmClient  # noqa: E402

HERE = Path(__file__).parent
CEILING = Path(os.environ.get("RHYTHM_CEILING", HERE.resolve().parents[1] / "shared" / "bench" / "pg_ceiling.py"))
CLIENT_APP = "rhythm-bench-client"  # the client's backends are not counted as the workers' Postgres CPU
CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def start_workers(url: str, w: int, concurrency: int, queue_limit: int | None = None) -> list[subprocess.Popen]:
    env = dict(os.environ, RHYTHM_DATABASE_URL=url, BENCH_QUEUE_LIMIT=str(queue_limit or ""))
    return [subprocess.Popen([sys.executable, "-m", "rhythm_runtime.cli", "worker", "bench_app:app",
                              "--concurrency", str(concurrency)], cwd=HERE, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(w)]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for p in workers:
        p.send_signal(signal.SIGTERM)
    for p in workers:
        p.wait(timeout=60)


def scalar(url: str, sql: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def context_switches(pid: int) -> tuple[int, int]:
    """Voluntary and involuntary context switches so far of all the threads of one process (from /proc)."""
    counts = [0, 0]
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        counts[line.startswith("non")] += int(line.split()[1])
        except OSError:  # the thread ended meanwhile
            pass
    return counts[0], counts[1]


def wait_ready(url: str, workers: list[subprocess.Popen]) -> None:
    """Until every worker process heartbeats (its workflows registered, its loop running)."""
    while scalar(url, "SELECT count(*) FROM rhythm.workers WHERE stopped_at IS NULL") < len(workers):
        if any(p.poll() is not None for p in workers):
            raise SystemExit("a worker process exited during start-up")
        time.sleep(0.05)


def wal_flushes(url: str) -> float:
    """WAL flushes (fsyncs) so far, by every backend of the server (pg_stat_io, Postgres 16 on); nan before 16."""
    try:
        return float(scalar(url, "SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal'"))
    except psycopg.Error:
        return float("nan")


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each Postgres backend serving this database (from /proc: same machine)."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid() AND application_name <> %s", (CLIENT_APP,)).fetchall()]
    cpu = {}
    for pid in pids:
        try:
            cpu[pid] = cpu_seconds(pid)
        except OSError:  # it ended meanwhile
            pass
    return cpu


def wait_finished(url: str, m: int, timeout: float = 600.0) -> None:
    """Until m runs have ended (all of them, warm-up included): one count every 20 ms on one session, not a poll
    per run."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(make_conninfo(url, application_name=CLIENT_APP), autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM rhythm.runs WHERE finished_at IS NOT NULL").fetchone()[0] < m:
            if time.monotonic() > deadline:
                raise SystemExit(f"the runs did not finish within {timeout:g}s")
            time.sleep(0.02)


def start_runs(client: SyncRhythmClient, clients: int, m: int, k: int) -> list:
    """Start m runs of k tasks from `clients` threads; their handles."""
    with ThreadPoolExecutor(clients) as starters:
        return list(starters.map(lambda _: client.start_workflow("seq_tasks", {"k": k}), range(m)))


def ours(m: int, k: int, w: int, concurrency: int, queue_limit: int | None, clients: int, warmup: int = 0) -> dict:
    with scratch_database() as url:
        workers = start_workers(url, w, concurrency, queue_limit)
        try:
            wait_ready(url, workers)
            client = SyncRhythmClient(make_conninfo(url, application_name=CLIENT_APP))
            if warmup:  # pools grown, statements prepared, caches filled: the window measures steady work
                start_runs(client, clients, warmup, k)
                wait_finished(url, warmup)
            # the start-up's and warm-up's stats reach pg_stat_database and pg_stat_io (each backend flushes at
            # most once a second; after a warm-up the counts settle within about 2.5 s)
            time.sleep(3.0 if warmup else 1.2)
            c0 = scalar(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            f0 = wal_flushes(url)
            s0 = backend_cpu(url)
            cpu0 = sum(cpu_seconds(p.pid) for p in workers)
            switches0 = [context_switches(p.pid) for p in workers]
            t0 = time.time()  # the clock Postgres stamps finished_at with (same machine)
            handles = start_runs(client, clients, m, k)
            started = time.time() - t0
            wait_finished(url, warmup + m)
            cpu = sum(cpu_seconds(p.pid) for p in workers) - cpu0
            switches = [context_switches(p.pid) for p in workers]
            s1 = backend_cpu(url)
            assert [h.result(timeout=1) for h in handles] == [k] * m
            client.close()
        finally:
            stop_workers(workers)
        time.sleep(0.2)
        c1 = scalar(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        f1 = wal_flushes(url)
        with psycopg.connect(url) as conn:
            last = conn.execute("SELECT extract(epoch FROM max(finished_at))::float8 FROM rhythm.runs").fetchone()[0]
            wall = last - t0
            measured = dict(ids=[h.id for h in handles])
            lat = [r[0] for r in conn.execute(
                "SELECT extract(epoch FROM finished_at - created_at) FROM rhythm.runs WHERE id = ANY(%(ids)s)",
                measured).fetchall()]
            gaps = [float(r[0]) for r in conn.execute("""
                SELECT (n.result->>'began')::float8 - (t.result->>'ended')::float8
                FROM rhythm.tasks t JOIN rhythm.tasks n ON n.run_id = t.run_id
                 AND n.id = (SELECT min(id) FROM rhythm.tasks x WHERE x.run_id = t.run_id AND x.id > t.id)
                WHERE t.run_id = ANY(%(ids)s)
            """, measured).fetchall()]
    tasks = m * k
    return dict(tasks_s=tasks / wall, wall=wall, starts=started / wall, p50=percentile(lat, 50),
                p99=percentile(lat, 99), gap50=percentile(gaps, 50), gap99=percentile(gaps, 99),
                commits=(c1 - c0) / tasks, flushes=(f1 - f0) / tasks, worker_cpu_ms=cpu / tasks * 1000,
                switches=tuple(sum(b[i] - a[i] for a, b in zip(switches0, switches)) / tasks for i in (0, 1)),
                server_cpu_ms=sum(c - s0.get(pid, 0.0) for pid, c in s1.items()) / tasks * 1000)


def ceiling(w: int, duration: float) -> float:
    """The ceiling program's tasks/s for one cell at w worker processes (one rep)."""
    with tempfile.TemporaryDirectory(prefix="rhythm-ceiling-") as tmp:
        os.chmod(tmp, 0o755)  # as root, the ceiling runs its server as an unprivileged user
        done = subprocess.run([sys.executable, str(CEILING), "--cells", f"^queue/b1/plain/c{w}/sync-on$",
                               "--duration", str(duration), "--reps", "1", "--fsync-test-secs", "0",
                               "--max-retries", "0", "--quiet-max-wait", "0", "--base", f"{tmp}/pg",
                               "--out", f"{tmp}/out.json"], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"the ceiling program failed: {done.stderr.strip()[-500:]}")
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        return float(summary["median_ops_per_s"][f"queue/b1/plain/c{w}/sync-on"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--clients", type=int, default=4, help="threads of the client starting the runs")
    ap.add_argument("--reps", type=int, default=2, help="interleaved repetitions; medians are reported")
    ap.add_argument("--warmup", type=int, default=None,
                    help="runs done before the measured window (default: --m; 0: none, as before session 12)")
    ap.add_argument("--ceiling-seconds", type=float, default=4.0)
    ap.add_argument("--no-ceiling", action="store_true")
    ap.add_argument("--queue-limit", type=int, default=None)
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    warmup = args.m if args.warmup is None else args.warmup
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, Postgres embedded (fsync on), "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"M={args.m} K={args.k} concurrency={args.concurrency} clients={args.clients} "
          f"queue limit={args.queue_limit} warm-up={warmup} runs reps={args.reps} (interleaved with the ceiling)")
    results: dict[int, list[tuple[dict, float | None]]] = {w: [] for w in counts}
    for rep in range(args.reps):
        for w in counts:
            top = None if args.no_ceiling else ceiling(w, args.ceiling_seconds)
            r = ours(args.m, args.k, w, args.concurrency, args.queue_limit, args.clients, warmup)
            results[w].append((r, top))
            ratio = f"  ratio {r['tasks_s'] / top:.2f}" if top else ""
            print(f"  rep {rep + 1} W={w}: ours {r['tasks_s']:.0f} tasks/s, ceiling "
                  f"{top or float('nan'):.0f}{ratio}, starts {r['starts']:.2f} of the time", flush=True)
    print("W  tasks/s  ceiling  ratio  p50/p99 start-to-finish ms  done-to-next-started p50/p99 ms  "
          "commits/task (WAL flushes)  CPU ms/task (workers + their backends)  "
          "context switches/task (voluntary + involuntary)")
    for w in counts:
        med = lambda key: statistics.median(r[key] for r, _ in results[w])  # noqa: E731
        tops = [t for _, t in results[w] if t]
        ratios = [r["tasks_s"] / t for r, t in results[w] if t]
        cpu = f"{med('worker_cpu_ms'):.2f} + {med('server_cpu_ms'):.2f}"
        print(f"{w}  {med('tasks_s'):7.0f}  {statistics.median(tops) if tops else float('nan'):7.0f}  "
              f"{statistics.median(ratios) if ratios else float('nan'):5.2f}  "
              f"{med('p50') * 1000:7.0f} / {med('p99') * 1000:<7.0f}            "
              f"{med('gap50') * 1000:6.2f} / {med('gap99') * 1000:<6.2f}                 "
              f"{med('commits'):5.2f} ({med('flushes'):4.2f})         {cpu}                    "
              f"{statistics.median(r['switches'][0] for r, _ in results[w]):.2f} + "
              f"{statistics.median(r['switches'][1] for r, _ in results[w]):.2f}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
