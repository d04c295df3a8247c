"""Load check of the HTTP API: a real `assistant serve` on a fresh index of seeds/, 64 asks at
concurrency 16 (every question of the test set, round-robin), then one correctness check.

    .venv/bin/python bench/load.py [--asks 64] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.jsonl"
sys.path.insert(0, str(ROOT / "bench"))
from run import percentile  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, port: int) -> subprocess.Popen:
    """`assistant serve` on `index`, once it answers."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--index", str(index),
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(360):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--asks", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        port, index = free_port(), Path(tmp) / "index"
        subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(ROOT / "seeds"), "--index", str(index)],
                       check=True, capture_output=True)
        server = start_server(index, port)
        url = f"http://127.0.0.1:{port}/api/ask"
        try:
            with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=args.concurrency)) as client:

                def ask(i: int) -> tuple[int, float]:
                    started = time.perf_counter()
                    response = client.post(url, json={"question": questions[i % len(questions)]})
                    return response.status_code, time.perf_counter() - started

                client.post(url, json={"question": "warm up"})
                started = time.perf_counter()
                with ThreadPoolExecutor(args.concurrency) as pool:
                    results = list(pool.map(ask, range(args.asks)))
                elapsed = time.perf_counter() - started
                after = client.post(url, json={"question": "What did Bondarev rail against at the Foreign Ministry?"}).json()
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = sorted(1000 * s for _, s in results)
    statuses = sorted({code for code, _ in results})
    print(f"{args.asks} asks at concurrency {args.concurrency}: status {statuses}, "
          f"{sum(code == 200 for code, _ in results)}/{args.asks} ok")
    print(f"latency p50 {percentile(latencies, 50):.0f} ms  p95 {percentile(latencies, 95):.0f} ms  "
          f"{args.asks / elapsed:.1f} requests/s")
    correct = "Lavrov" in after["answer"] and after["citations"]
    print(f"afterwards: {'correct' if correct else 'WRONG'} answer ({after['answer'][:80]}…)")
    if statuses != [200] or not correct:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
