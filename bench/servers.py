"""Several servers on one Chroma server: how soon one answers from what another wrote.

    .venv/bin/python bench/servers.py [--rounds 3]

A real `chroma run` holding `seeds/`, two `assistant serve` processes on it (each with its own
local cache, as on two machines). Per round: an article is uploaded through the first and the
second is asked until it cites it; the article is deleted through the first and the second is
asked until it no longer does; then a third server, started afterwards, is asked once. Prints the
seconds (median and worst over the rounds); results in bench/results/servers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "servers.json"
sys.path.insert(0, str(ROOT / "bench"))
from load import free_port  # noqa: E402

QUESTION = "How many lanterns did the Zorbulan festival open with?"
ARTICLE = "The Zorbulan festival opened in Kestrel Bay with {n} lanterns on Tuesday."
LIMIT = 30.0  # seconds before a round counts as never


def wait_until(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer")
            time.sleep(0.5)


def serve(cache: Path, chroma: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "CHROMA_URL": chroma}
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--index", str(cache),
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until(f"{url}/api/health")
    return process, url


def cites(url: str, doc_id: str) -> bool:
    answer = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=60).json()
    return any(c["source"] == doc_id for c in answer["citations"])


def seconds_until(check) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > LIMIT:
            return float("inf")
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    processes = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        processes.append(subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path",
                                           str(tmp / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        chroma = f"http://127.0.0.1:{port}"
        try:
            wait_until(f"{chroma}/api/v2/heartbeat")
            subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(ROOT / "seeds"), "--chroma-url",
                            chroma, "--index", str(tmp / "ingest")], check=True, capture_output=True)
            (first, one), (second, two) = serve(tmp / "first", chroma), serve(tmp / "second", chroma)
            processes += [first, second]
            rounds = []
            for n in range(args.rounds):
                added = httpx.post(f"{one}/api/documents", json={"text": ARTICLE.format(n=400 + n),
                                                                 "title": f"Zorbulan festival {n}"}, timeout=60)
                doc_id = added.raise_for_status().json()["id"]
                seen = seconds_until(lambda: cites(two, doc_id))
                httpx.delete(f"{one}/api/documents/{doc_id}", timeout=60).raise_for_status()
                gone = seconds_until(lambda: not cites(two, doc_id))
                rounds.append({"added_seen_s": round(seen, 2), "removed_seen_s": round(gone, 2)})
                print(json.dumps(rounds[-1]), flush=True)
            added = httpx.post(f"{one}/api/documents", json={"text": ARTICLE.format(n=999), "title": "Zorbulan"},
                               timeout=60).raise_for_status().json()["id"]
            third, three = serve(tmp / "third", chroma)
            processes.append(third)
            results = {"rounds": rounds, "third_server_cites_it": cites(three, added)}
            for key in ("added_seen_s", "removed_seen_s"):
                values = [r[key] for r in rounds]
                results[key] = {"median": statistics.median(values), "worst": max(values)}
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "rounds"}))


if __name__ == "__main__":
    main()
