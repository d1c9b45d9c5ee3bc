"""The reference service under load: list, get, create and login against a no-database
baseline, on SQLite and on PostgreSQL, with the SQL statements each request runs.

For each database: migrate, seed the demo data plus --users accounts, count the SQL
statements per request in-process (and fail unless the count is the same for every
page size and data size), then start the service in uvicorn (one worker, rate
limiting off, JSON access log to a file) and drive it with wrk from 127.0.0.1.
Each repetition runs the baseline and every endpoint back to back, so the ratio to
the baseline is taken under the same machine load; the figures are medians.

Usage: python bench/service_load.py [--label before|after] [--record] [--profile]
       [--databases sqlite,postgresql] [--duration S] [--repeat N] [--connections C]
Needs wrk (Debian: apt-get install wrk) and, for PostgreSQL, initdb/pg_ctl.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service_load_app import BASELINE_PATH, add_baseline  # noqa: E402
from sqlalchemy import event, func, insert, select  # noqa: E402

from reference_api import demo_data as demo  # noqa: E402
from reference_api.app import create_app  # noqa: E402
from reference_api.db import migrate  # noqa: E402
from reference_api.listing import PageRequest, SortKey  # noqa: E402
from reference_api.models import Role, User, UserStatus  # noqa: E402
from reference_api.repositories import UserFilters, UserRepository  # noqa: E402
from reference_api.schemas import PageMeta, UserPage, UserRead  # noqa: E402
from reference_api.security import AccessTokenCodec  # noqa: E402
from tests.service.support import (  # noqa: E402
    TEST_JWT_SECRET,
    ApiClient,
    TemporaryPostgres,
    _free_loopback_port,
    find_postgres_bin_dir,
    make_settings,
)

RESULTS = ROOT / "bench" / "service_load.json"
BASELINE = "baseline"
ENDPOINTS = ("list", "get", "create", "login")
LIST_PATH = "/api/users?limit=20"
GET_PATH = f"/api/users/{demo.ALICE_ID}"

# What the served process sees: no rate limit (it would answer 429s, not work), and a
# per-address sign-in budget large enough for every connection to be mid-login at
# once from 127.0.0.1. The per-account budget stays as it is: logins rotate accounts.
SERVER_ENV = {
    "JWT_SECRET": TEST_JWT_SECRET,
    "RATE_LIMIT_ENABLED": "false",
    "LOGIN_FAILURES_PER_IP": "1000000",
    "LOG_LEVEL": "INFO",
    "ENVIRONMENT": "development",
}

LUA_DONE = """
local all_threads = {}
local base_setup = setup
setup = function(thread)
  table.insert(all_threads, thread)
  if base_setup then base_setup(thread) end
end
response = function(status, headers, body)
  if status >= 300 then
    if not codes then codes = {} end
    codes[tostring(status)] = (codes[tostring(status)] or 0) + 1
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local seen = {}
  for _, thread in ipairs(all_threads) do
    local counted = thread:get("codes")
    if counted then
      for code, n in pairs(counted) do seen[code] = (seen[code] or 0) + n end
    end
  end
  local parts = {}
  for code, n in pairs(seen) do table.insert(parts, string.format('"%s":%d', code, n)) end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"statuses":{%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
"""

LUA_GET = """
init = function(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
end
"""

LUA_THREADS = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
"""

LUA_CREATE = (
    LUA_THREADS
    + """
init = function(args) nonce = args[1] end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"email":"load-%s-%d-%d@example.com","name":"Load Test","password":"%s"}',
    nonce, tid, counter, "correct-horse-battery-staple")
  return wrk.format("POST", "/api/users", {["Content-Type"] = "application/json"}, body)
end
"""
)

LUA_LOGIN = (
    LUA_THREADS
    + """
init = function(args) users = tonumber(args[1]) end
request = function()
  counter = counter + 1
  local n = (counter * 7 + tid * 131) % users
  local body = string.format(
    '{"email":"load-user-%04d@example.com","password":"%s"}', n,
    "correct-horse-battery-staple")
  return wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"}, body)
end
"""
)


def bulk_email(index: int) -> str:
    return f"load-user-{index:04d}@example.com"


def seed_users(app: Any, count: int) -> None:
    """``count`` active users sharing the demo password's hash (hashed once)."""
    context = app.state.context
    with context.session_factory() as session:
        password_hash = session.get(User, demo.ADMIN_ID).password_hash
        created = demo.DEMO_NOW - timedelta(days=400)
        rows = [
            {
                "id": uuid.uuid4(),
                "email": bulk_email(index),
                "name": f"Load User {index:04d}",
                "password_hash": password_hash,
                "role": Role.user,
                "status": UserStatus.active,
                "created_at": created + timedelta(minutes=index),
                "updated_at": created + timedelta(minutes=index),
            }
            for index in range(count)
        ]
        session.execute(insert(User), rows)
        session.commit()


class StatementCounter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *_args: Any) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        box: list[int] = []
        self.count = 0
        yield box
        box.append(self.count)


def count_queries(client: ApiClient, counter: StatementCounter, token: str) -> dict[str, int]:
    """SQL statements per request for each endpoint and each list page size.

    Each authenticated GET is sent once uncounted first, so the counted one finds the
    token's user in the per-process cache, as every request of the load runs does
    (one token, many requests a second). Counted on an app whose cache is off, the
    same requests show the cost of a miss.
    """
    auth = {"Authorization": f"Bearer {token}"}
    probes: dict[str, tuple[str, str, dict[str, Any]]] = {
        f"list limit={limit}": ("GET", f"/api/users?limit={limit}", {"headers": auth}) for limit in (1, 20, 100)
    }
    probes["list page=3 limit=20"] = ("GET", "/api/users?limit=20&page=3", {"headers": auth})
    probes["get"] = ("GET", GET_PATH, {"headers": auth})
    probes["create"] = (
        "POST",
        "/api/users",
        {"json": {"email": f"count-{uuid.uuid4().hex}@example.com", "name": "Count", "password": demo.DEMO_PASSWORD}},
    )
    probes["login"] = (
        "POST",
        "/api/auth/login",
        {"json": {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}},
    )
    counts = {}
    for name, (method, path, kwargs) in probes.items():
        if method == "GET":
            client.request(method, path, **kwargs)
        with counter.counting() as box:
            response = client.request(method, path, **kwargs)
        assert response.status_code < 300, (name, response.status_code, response.text)
        counts[name] = box[0]
    return counts


def whole_request_cpu_us(app: Any, path: str, query: str, token: str) -> float:
    """Server CPU µs for one whole request through the app, in-process: the ASGI call
    with every middleware, dependency and the thread hand-off, but no HTTP server, no
    socket and one request at a time (no contention). Median of five batches."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    async def measure() -> float:
        async with app.router.lifespan_context(app):
            for _ in range(50):
                await app(dict(scope), receive, send)
            batches = []
            for _ in range(5):
                started = time.process_time()
                for _ in range(200):
                    await app(dict(scope), receive, send)
                batches.append((time.process_time() - started) / 200 * 1e6)
        return round(statistics.median(batches), 1)

    return asyncio.run(measure())


def floor_timings(app: Any, settings: Any, token: str) -> dict[str, float]:
    """What the list request's own work costs with no HTTP, threads or contention:
    microseconds of this process's CPU per call (comparable with the server's CPU per
    request, and less disturbed by other load than wall time; on PostgreSQL it leaves
    out the server's side of each query), median of five batches, one thread. The ORM
    lines are the reads as they were before Core rows, for comparison."""
    context = app.state.context
    codec = AccessTokenCodec(settings)
    sort, page = [SortKey("created_at", False)], PageRequest(1, 20)
    claims = codec.decode(token, datetime.now(UTC))

    def lookup() -> None:
        with context.session_factory() as session:
            UserRepository(session).find(demo.ADMIN_ID)

    def lookup_orm() -> None:
        with context.session_factory() as session:
            session.get(User, demo.ADMIN_ID)

    def list_page() -> None:
        with context.session_factory() as session:
            UserRepository(session).list_page(UserFilters(), sort, page)

    def list_page_orm() -> None:
        with context.session_factory() as session:
            query = select(User)
            session.scalar(select(func.count()).select_from(query.subquery()))
            list(session.scalars(query.order_by(User.created_at, User.id).offset(page.offset).limit(page.limit)))

    with context.session_factory() as session:
        found, total = UserRepository(session).list_page(UserFilters(), sort, page)

    def serialise() -> None:
        UserPage(
            data=[UserRead.model_validate(user) for user in found], meta=PageMeta.of(page, total)
        ).model_dump_json()

    def checkout() -> None:
        with context.session_factory() as session:
            session.connection()

    with context.session_factory() as session:
        record = UserRepository(session).find(claims.user_id)
    assert record is not None
    context.actors.store(record, context.actors.generation())
    cases = {
        "verify the JWT": lambda: codec.decode(token, datetime.now(UTC)),
        "open a session, check out a connection, close": checkout,
        "the token's user, from the per-process cache": lambda: context.actors.get(claims.user_id),
        "look up the token's user (Core row, by primary key)": lookup,
        "count + one page of 20 users (Core rows)": list_page,
        "20 UserRead models, to JSON": serialise,
        "before, for comparison: the user lookup through the ORM": lookup_orm,
        "before, for comparison: count + page through the ORM": list_page_orm,
    }
    timings = {}
    for name, call in cases.items():
        batches = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(200):
                call()
            batches.append((time.process_time() - started) / 200 * 1e6)
        timings[name] = round(statistics.median(batches), 1)
    return timings


def prepare(url: str, users: int, workdir: Path) -> dict[str, Any]:
    """Migrate and seed ``url``; count statements at two data sizes; write the baseline body."""
    migrate(url)
    # A TTL longer than the counting takes, so "cached" means cached even on a slow,
    # busy machine (the served app keeps the default; its misses are once a second).
    settings = make_settings(url, rate_limit_enabled=False, auth_cache_seconds=60)
    app = create_app(settings)
    context = app.state.context
    with context.session_factory() as session:
        demo.seed(session, context.passwords)
    counter = StatementCounter(context.engine)
    token = AccessTokenCodec(settings).issue(demo.ADMIN_ID, Role.admin, datetime.now(UTC))
    client = ApiClient(app)
    # The same database, served with the cache off: every request reads its user.
    uncached_app = create_app(make_settings(url, rate_limit_enabled=False, auth_cache_seconds=0))
    uncached_counter = StatementCounter(uncached_app.state.context.engine)
    uncached_client = ApiClient(uncached_app)
    try:
        small = count_queries(client, counter, token)
        small_uncached = count_queries(uncached_client, uncached_counter, token)
        seed_users(app, users)
        large = count_queries(client, counter, token)
        large_uncached = count_queries(uncached_client, uncached_counter, token)
        floor = floor_timings(app, settings, token)
        body = client.get(LIST_PATH, headers={"Authorization": f"Bearer {token}"})
        assert body.status_code == 200
        (workdir / "baseline.json").write_bytes(body.content)
        total = body.json()["meta"]["total"]
        add_baseline(app, body.content)
        path, _, query = LIST_PATH.partition("?")
        floor["whole request in-process (ASGI, no HTTP server, one at a time): baseline"] = whole_request_cpu_us(
            app, BASELINE_PATH, "", token
        )
        floor["whole request in-process (ASGI, no HTTP server, one at a time): list"] = whole_request_cpu_us(
            app, path, query, token
        )
    finally:
        client.close()
        uncached_client.close()
        context.engine.dispose()
        uncached_app.state.context.engine.dispose()
    constant = all(
        len({count for name, count in {**one, **other}.items() if name.startswith("list")}) == 1
        and all(one[name] == other[name] for name in one)
        for one, other in ((small, large), (small_uncached, large_uncached))
    )
    return {
        "queries_small": small,
        "queries_large": large,
        "queries_large_uncached": large_uncached,
        "constant": constant,
        "users_total": total,
        "in_process_us": floor,
    }


@contextmanager
def serve(url: str, workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_loopback_port()
    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": url,
        "BENCH_BASELINE_BODY": str(workdir / "baseline.json"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]),
    }
    # The same uvicorn.run call as `python -m reference_api`, with the bench's factory.
    code = (
        "import uvicorn; uvicorn.run('service_load_app:create', factory=True, "
        f"host='127.0.0.1', port={port}, workers=1, log_config=None, access_log=False)"
    )
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=log, stdout=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/api/health/live", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "server.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    base: str,
    endpoint: str,
    args: argparse.Namespace,
    workdir: Path,
    token: str,
    duration: float | None = None,
    pid: int | None = None,
) -> dict[str, Any]:
    scripts = {
        BASELINE: (LUA_GET, BASELINE_PATH, [token]),
        "list": (LUA_GET, LIST_PATH, [token]),
        "get": (LUA_GET, GET_PATH, [token]),
        "create": (LUA_CREATE, "/api/users", [uuid.uuid4().hex[:8]]),
        "login": (LUA_LOGIN, "/api/auth/login", [str(args.users)]),
    }
    lua, path, script_args = scripts[endpoint]
    script = workdir / f"{endpoint}.lua"
    script.write_text(lua + LUA_DONE)
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{int(duration or args.duration)}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base + path,
        "--",
        *script_args,
    ]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    line = next(line for line in output.stdout.splitlines() if line.startswith('{"requests"'))
    raw = json.loads(line)
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        # Server CPU per request (all threads): less sensitive to other load than rps.
        "server_cpu_ms": round(1000 * cpu / max(raw["requests"], 1), 3) if pid else None,
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
        "statuses": raw["statuses"],
    }


def is_idle(stack: str) -> bool:
    """A thread-pool worker waiting for a job, or the event loop waiting in select."""
    frames = stack.split(";")
    names = [frame.split(" (")[0] for frame in frames]
    if names[-1] == "EpollSelector.select":
        return True
    return (
        names[-1] == "Condition.wait"
        and len(names) >= 3
        and names[-2] == "Queue.get"
        and names[-3] == "WorkerThread.run"
    )


# Where a request's working samples go, first match wins: each stage names frames, and a
# sample belongs to the first stage one of whose frames is on its stack.
STAGES = (
    ("the endpoint's SQL, rows to records (worker thread)", ("UserService.list_page", "UserService.get")),
    ("the endpoint's response models and JSON (worker thread)", ("list_users", "read_user")),
    ("handing work to a worker thread and back (both sides)", ("run_in_threadpool", "run_sync", "WorkerThread.run")),
    ("the other FastAPI dependencies: token, user cache, session, services (loop)", ("solve_dependencies",)),
)
REST = "uvicorn, middleware, routing, access log (loop)"


def profile(
    process: subprocess.Popen[bytes], base: str, args: argparse.Namespace, workdir: Path, token: str, endpoint: str
) -> dict[str, Any]:
    """Sample the server with py-spy while wrk drives ``endpoint``; summarise by function.

    Samples of idle threads (the thread pool waiting for work, the loop in select) are
    dropped, so the shares are of time spent working.
    """
    time.sleep(3)  # let requests still queued from the previous run drain
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = workdir / f"profile-{endpoint}.txt"
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(process.pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--gil",
            "--duration",
            str(int(args.duration)),
            "--nonblocking",
            "-o",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    run = wrk(base, endpoint, args, workdir, token, pid=process.pid)
    spy.wait(timeout=120)
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        n = int(samples)
        if is_idle(stack):
            continue
        frames = [
            frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
            for frame in stack.split(";")[1:]
        ]
        total += n
        names = {frame.split(" (")[0] for frame in frames}
        stage = next((label for label, wanted in STAGES if names.intersection(wanted)), REST)
        stages[stage] += n
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            leaf[frames[-1]] += n
    keep = workdir.parent / f"{workdir.name}-{endpoint}-profile.txt"
    shutil.copy(raw, keep)
    cpu_ms = run["server_cpu_ms"]
    return {
        "samples": total,
        "raw": str(keep),
        "server_cpu_ms": cpu_ms,
        # Each stage's share of the working samples, and that share of the server's
        # CPU time per request during the profiled run (py-spy's own cost included).
        "stages_pct": {label: round(100 * stages[label] / total, 1) for label, _ in (*STAGES, (REST, ()))},
        "stages_us": {label: round(1000 * cpu_ms * stages[label] / total) for label, _ in (*STAGES, (REST, ()))},
        "inclusive_pct": {name: round(100 * n / total, 1) for name, n in inclusive.most_common(60)},
        "self_pct": {name: round(100 * n / total, 1) for name, n in leaf.most_common(25)},
    }


def run_database(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"agentkb-load-{name}-"))
    try:
        prepared = prepare(url, args.users, workdir)
        print(
            f"[{name}] statements per request: {prepared['queries_large']}; with the user cache off: "
            f"{prepared['queries_large_uncached']} (constant: {prepared['constant']})",
            flush=True,
        )
        print(f"[{name}] in-process CPU µs per call: {prepared['in_process_us']}", flush=True)
        token = AccessTokenCodec(make_settings(url)).issue(demo.ADMIN_ID, Role.admin, datetime.now(UTC))
        endpoints = [e for e in ENDPOINTS if e in args.endpoints.split(",")]
        runs: dict[str, list[dict[str, Any]]] = {key: [] for key in (BASELINE, *endpoints)}
        profiles = {}
        with serve(url, workdir) as (base, process):
            for endpoint in runs:  # warm-up: caches, pool, JIT-free paths
                wrk(base, endpoint, args, workdir, token, duration=1)
            for rep in range(args.repeat):
                for endpoint in runs:
                    result = wrk(base, endpoint, args, workdir, token, pid=process.pid)
                    runs[endpoint].append(result)
                    print(
                        f"[{name}] rep {rep + 1} {endpoint:8} {result['rps']:7.1f} req/s  "
                        f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                        f"cpu {result['server_cpu_ms']:6.2f} ms/req  non-2xx {result['statuses'] or 0}",
                        flush=True,
                    )
            if args.profile:
                for endpoint in args.profile.split(","):
                    try:
                        profiles[endpoint] = profile(process, base, args, workdir, token, endpoint)
                    except (OSError, subprocess.SubprocessError, ValueError) as exc:
                        profiles[endpoint] = {"error": repr(exc)}
        queries = prepared["queries_large"]
        uncached = prepared["queries_large_uncached"]
        probe_of = {"list": "list limit=20", "get": "get", "create": "create", "login": "login"}
        summary: dict[str, Any] = {"endpoints": {}}
        for endpoint, results in runs.items():
            if not results:
                continue
            ratios = [r["rps"] / b["rps"] for r, b in zip(results, runs[BASELINE], strict=True)]
            summary["endpoints"][endpoint] = {
                "rps": round(statistics.median(r["rps"] for r in results), 1),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 1),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 1),
                "server_cpu_ms": round(statistics.median(r["server_cpu_ms"] for r in results), 3),
                # As in the load runs: the token's user cached (one token, many requests).
                "queries_per_request": queries[probe_of[endpoint]] if endpoint in probe_of else 0,
                "queries_per_request_uncached": uncached[probe_of[endpoint]] if endpoint in probe_of else 0,
                "ratio_to_baseline": round(statistics.median(ratios), 3),
                "non_2xx": sum(r["non_2xx"] for r in results),
                "socket_errors": sum(r["socket_errors"] for r in results),
                "runs": results,
            }
        summary["baseline_rps"] = summary["endpoints"].get(BASELINE, {}).get("rps")
        summary["queries"] = {
            "demo data only": prepared["queries_small"],
            f"{prepared['users_total']} users": queries,
            f"{prepared['users_total']} users, user cache off": uncached,
        }
        summary["queries_constant"] = prepared["constant"]
        summary["in_process_us"] = prepared["in_process_us"]
        if profiles:
            summary["profiles"] = profiles
        return summary
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after", help="key in the results file")
    parser.add_argument("--record", action="store_true", help=f"write into {RESULTS.name}")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", default="", help="endpoints to sample with py-spy, e.g. list")
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk (Debian/Ubuntu)", file=sys.stderr)
        return 2
    run: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "method": {
            "tool": "wrk",
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "repeat": args.repeat,
            "users": args.users,
            "workers": 1,
            "rate_limit": "off",
            "list": LIST_PATH,
        },
        "databases": {},
    }
    failed = False
    for name in args.databases.split(","):
        if name == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="agentkb-load-db-"))
            try:
                run["databases"][name] = run_database(name, f"sqlite:///{directory / 'load.db'}", args)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
        else:
            bin_dir = find_postgres_bin_dir()
            if bin_dir is None:
                print("no PostgreSQL (initdb) found; skipping it", file=sys.stderr)
                continue
            server = TemporaryPostgres.start(bin_dir)
            try:
                run["databases"][name] = run_database(name, server.url, args)
            finally:
                server.stop()
        failed |= not run["databases"][name]["queries_constant"]
    run["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    for db, data in run["databases"].items():
        for endpoint, found in data.get("profiles", {}).items():
            if "error" in found:
                print(f"--- {db} {endpoint}: profile failed: {found['error']}")
                continue
            print(f"--- {db} {endpoint}: py-spy, share of working samples ({found['samples']})")
            for title in ("stages_pct", "inclusive_pct", "self_pct"):
                print(f"  {title}:")
                for frame, share in found[title].items():
                    print(f"    {share:5.1f}  {frame}")
    print(
        json.dumps(
            {
                db: {ep: {k: v for k, v in figures.items() if k != "runs"} for ep, figures in data["endpoints"].items()}
                for db, data in run["databases"].items()
            },
            indent=1,
        )
    )
    if args.record:
        existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        existing[args.label] = run
        RESULTS.write_text(json.dumps(existing, indent=1) + "\n")
        print(f"recorded as {args.label!r} in {RESULTS.relative_to(ROOT)}")
    if failed:
        print("FAIL: the number of SQL statements per request depends on page or data size", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
