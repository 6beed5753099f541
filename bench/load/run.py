"""A classroom against one server: Locust students over Streamlit's protocol, no browser.

Run from the repository root (bounded: ramp + duration, then it stops)::

    .venv/bin/python -m bench.load.run --users 20 --interval 3 --duration 60
    .venv/bin/python -m bench.load.run --users 50 --interval 3 --duration 60
    .venv/bin/python -m bench.load.run --search                  # highest rate at p95 <= 1 s
    .venv/bin/python -m bench.load.run --processes 2 --search    # behind nginx

Starts the app itself on loopback: ``streamlit run serve.py`` on a free port (as the
README runs it), or with ``--processes N``
(N > 1) ``scripts/serve-many.sh N``: N such processes behind nginx with sticky
sessions. Then runs ``--users`` Locust
users (``bench/load/locustfile.py``: each a session that draws, uploads a photo
and switches the model, one task every ``--interval`` s ± ``--jitter``), arrived
over ``--ramp`` s, and measures for ``--duration`` s from the moment all have
arrived. Samples the server's RSS (every process of it, every 0.5 s) and CPU
time from /proc, and prints from Locust's stats: drawings per second, p50/p95/p99
from stroke sent to Prediction received, the same for uploads and model switches,
failures (errors and wrong digits), server peak RSS and CPU, and this generator's
own CPU (it shares the machine's cores with the server).

``--search`` steps the number of users (at the same interval) up from
``--search-start`` by ``--search-step`` until a run's drawing p95 exceeds 1 s or
it has failures, then halves the gap between the last pass and that failure
(to one user), for at most ``--search-steps`` runs of ``--duration`` s on one
server: the highest drawing rate that passed is the figure. Asserts nothing;
loopback only.
"""

from __future__ import annotations

# Locust patches the standard library for gevent: import it before anything else.
import locust  # noqa: F401  # isort: skip

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

import gevent
from locust.env import Environment

from bench.bench_load import MemorySampler, machine_cpu_seconds, rss_mb
from bench.load.locustfile import Student
from tests.browser.conftest import free_port, start_streamlit, stop, wait_until_up
from tests.processes import cpu_seconds, process_tree

REPO = Path(__file__).resolve().parents[2]
P95_TARGET = 1000.0  # ms, stroke sent to Prediction received
NAMES = ("draw", "upload", "model", "open")


# ---------------------------------------------------------------- the server(s)


def start_servers(processes: int) -> tuple[subprocess.Popen, str]:
    """One ``serve.py`` on a free loopback port, or N behind nginx; (process, URL)."""
    if processes == 1:
        port = free_port()
        server = start_streamlit(REPO / "serve.py", port)
        return server, wait_until_up(server, port)
    port = free_port()
    log_dir = REPO / "artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"serve-many-{port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        ["bash", str(REPO / "scripts" / "serve-many.sh"), str(processes), "--port", str(port)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: stopped as one
    )
    return server, wait_until_up(server, port, timeout=120)


def stop_servers(server: subprocess.Popen, processes: int) -> None:
    if processes == 1:
        stop(server)
        return
    server.send_signal(signal.SIGTERM)  # serve-many.sh stops nginx and its servers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def server_pids(server: subprocess.Popen) -> list[int]:
    """The server's processes: serve.py, or serve-many.sh with nginx and every serve.py."""
    return [pid for pid in process_tree(server.pid) if pid != os.getpid()]


def streamlit_cpu(server: subprocess.Popen) -> dict[int, float]:
    """CPU seconds so far of each Streamlit process of the server (how evenly it spreads)."""
    found = {}
    for pid in server_pids(server):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"streamlit" in command:
            found[pid] = cpu_seconds([pid])
    return found


# ---------------------------------------------------------------- one measured run


def measure(
    url: str,
    server: subprocess.Popen,
    sampler: MemorySampler,
    users: int,
    interval: float,
    jitter: float,
    duration: float,
    ramp: float,
) -> dict:
    """Run ``users`` Locust students against ``url``; figures of the measured part."""
    Student.interval, Student.jitter = interval, jitter
    Student.counters.update(wrong=0, errors=0)
    env = Environment(user_classes=[Student], host=url)
    runner = env.create_local_runner()
    arrived = gevent.event.Event()
    env.events.spawning_complete.add_listener(lambda user_count: arrived.set())
    runner.start(users, spawn_rate=max(1.0, users / max(ramp, 0.1)))
    arrived.wait(timeout=ramp + 60)
    gevent.sleep(min(interval, 3.0))  # let the arrivals' first tasks pass
    # Measure from here: fresh stats and counters, CPU and memory from now on.
    env.stats.reset_all()
    Student.counters.update(wrong=0, errors=0)
    pids = server_pids(server)
    cpu_server, cpu_machine = cpu_seconds(pids), machine_cpu_seconds()
    cpu_self = cpu_seconds([os.getpid()])
    per_process = streamlit_cpu(server)
    started = time.monotonic()
    gevent.sleep(duration)
    wall = time.monotonic() - started
    figures = {
        "users": users,
        "interval": interval,
        "wall": wall,
        "cpu_server": cpu_seconds(server_pids(server)) - cpu_server,
        "cpu_machine": machine_cpu_seconds() - cpu_machine,
        "cpu_self": cpu_seconds([os.getpid()]) - cpu_self,
        "cpu_each": [
            round(cpu - per_process.get(pid, 0.0), 1) for pid, cpu in streamlit_cpu(server).items()
        ],
        "rss_peak": sampler.peak(since=started),
        "rss_end": rss_mb(server_pids(server)),
        "wrong": Student.counters["wrong"],
        "errors": Student.counters["errors"],
        "failures": {},
        "entries": {},
    }
    for name in NAMES:
        entry = env.stats.entries.get((name, "WS"))
        if entry is None or entry.num_requests == 0:
            continue
        figures["entries"][name] = {
            "n": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
        }
    for error in env.stats.errors.values():
        figures["failures"][f"{error.name}: {error.error}"] = error.occurrences
    runner.quit()
    return figures


def draw_rate(figures: dict) -> float:
    return figures["entries"].get("draw", {}).get("n", 0) / figures["wall"]


def passed(figures: dict) -> bool:
    draw = figures["entries"].get("draw")
    failures = sum(e["failures"] for e in figures["entries"].values())
    return bool(draw) and draw["p95"] <= P95_TARGET and failures == 0


def report(figures: dict, processes: int) -> None:
    cores = os.cpu_count() or 1
    print(
        f"{figures['users']} users, a task every {figures['interval']:.1f} s each "
        f"(±{Student.jitter:.0%}), measured {figures['wall']:.0f} s, "
        f"{processes} server process{'es' if processes > 1 else ''}"
        + (" behind nginx" if processes > 1 else "")
    )
    print(f"  drawings: {draw_rate(figures):.2f}/s")
    for name, e in figures["entries"].items():
        what = {
            "draw": "stroke sent -> Prediction",
            "upload": "upload -> Prediction",
            "model": "model switch -> Prediction",
            "open": "page opened (first run)",
        }[name]
        print(
            f"  {name:<6} {what:<28} n {e['n']:>5}  p50 {e['p50']:>5.0f}  p95 {e['p95']:>5.0f}  "
            f"p99 {e['p99']:>5.0f}  max {e['max']:>6.0f} ms  failures {e['failures']}"
        )
    print(f"  errors: {figures['errors']}   wrong digits: {figures['wrong']}")
    for text, count in sorted(figures["failures"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {count} x {text[:160]}")
    busy = figures["cpu_machine"] / (figures["wall"] * cores)
    print(
        f"  server: peak RSS {figures['rss_peak']:.0f} MB (end {figures['rss_end']:.0f} MB), "
        f"CPU {figures['cpu_server'] / figures['wall']:.2f} cores "
        f"({figures['cpu_server'] / max(draw_rate(figures) * figures['wall'], 1):.3f} CPU-s "
        f"per drawing, all tasks included)"
    )
    if len(figures["cpu_each"]) > 1:
        print(f"  CPU-s of each Streamlit process: {figures['cpu_each']}")
    print(
        f"  machine: {busy:.0%} busy of {cores} cores; this generator "
        f"{figures['cpu_self'] / figures['wall']:.2f} cores"
    )
    draw = figures["entries"].get("draw")
    verdict = "PASS" if passed(figures) else "FAIL"
    if draw:
        print(f"  target p95 <= {P95_TARGET:.0f} ms, no failures: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="simulated students")
    parser.add_argument("--interval", type=float, default=3.0, help="mean s between tasks")
    parser.add_argument("--jitter", type=float, default=0.5, help="interval × U(1±jitter)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds for all to arrive")
    parser.add_argument("--processes", type=int, default=1, help=">1: serve-many.sh N")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--search", action="store_true", help="step the users up (see doc)")
    parser.add_argument("--search-start", type=int, default=5, help="users at the first step")
    parser.add_argument("--search-step", type=int, default=5, help="users added per step")
    parser.add_argument("--search-steps", type=int, default=9, help="runs at most")
    args = parser.parse_args()
    if args.search and args.duration == 60.0:
        args.duration = 40.0  # per step

    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.url:
        server = subprocess.Popen(["sleep", "infinity"])  # nothing of ours to sample
        url = args.url
    else:
        server, url = start_servers(args.processes)
    sampler = MemorySampler(server.pid)
    sampler.start()
    results = []
    try:
        print(f"server: {url}, idle RSS {rss_mb(server_pids(server)):.0f} MB")
        users = args.search_start if args.search else args.users
        passing, failing, runs = 0, None, 0
        while True:
            figures = measure(
                url, server, sampler, users, args.interval, args.jitter, args.duration, args.ramp
            )
            results.append(figures)
            report(figures, args.processes)
            runs += 1
            if not args.search:
                break
            if passed(figures):
                passing = users
            else:
                failing = users
            # Up by steps until the first failure, then halve the gap between the last
            # pass and the first failure, for at most --search-steps runs in all.
            if runs >= args.search_steps:
                break
            if failing is None:
                users += args.search_step
            elif failing - passing > 1:
                users = (passing + failing) // 2
            else:
                break
            gevent.sleep(2)  # the previous users' sockets close
    finally:
        sampler.halt.set()
        if args.url:
            server.kill()
            server.wait()
        else:
            stop_servers(server, args.processes)
    if args.search:
        good = [f for f in results if passed(f)]
        best = max(good, key=draw_rate) if good else None
        if best is None:
            print("highest drawing rate with p95 <= 1 s and no failures: none of the steps")
        else:
            tasks = sum(e["n"] for n, e in best["entries"].items() if n != "open") / best["wall"]
            print(
                f"highest drawing rate with p95 <= 1 s and no failures: "
                f"{draw_rate(best):.2f} drawings/s ({best['users']} users, a task every "
                f"{best['interval']:.0f} s each; all timed requests {tasks:.2f}/s)"
            )
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
