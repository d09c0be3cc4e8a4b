"""Serving speed: the same SavedModel called in-process, through gRPC and through REST.

    python benchmarks/serving.py [--preset=tiny --requests=30]

Builds a Seq2SeqLM of the preset (random weights: speed does not depend on them), exports
it with `unilmv2 export` (beam 2, 16 target tokens, 64 source tokens), starts `unilmv2 serve`
in a second process on 127.0.0.1, and times `encode` and `generate` at batch 1 and batch 8
with one client sending requests back to back: in-process (`tf.saved_model.load`, the
signature called directly), gRPC and REST (`ServingClient`). Texts are real Debian package
descriptions from the test fixture. Prints a table and writes JSON.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from unilmv2_tf import UniLMv2Backbone  # noqa: E402
from unilmv2_tf.data import read_jsonl_records  # noqa: E402
from unilmv2_tf.export import ServingClient, ServingError  # noqa: E402
from unilmv2_tf.models import Seq2SeqLM  # noqa: E402
from unilmv2_tf.preprocessing import WordPieceTokenizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "synopsis_valid.jsonl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unilmv2(*args):
    return [sys.executable, "-m", "unilmv2_tf.cli.main", *args]


def export(root, preset):
    tokenizer = WordPieceTokenizer()
    backbone = UniLMv2Backbone.from_size(preset, vocab_size=tokenizer.vocabulary_size)
    model = Seq2SeqLM(backbone, max_source_length=64, max_target_length=16,
                      tokenizer=tokenizer)
    model.generate(["warm up"])
    model_dir = os.path.join(root, "model")
    os.makedirs(model_dir)
    model.save(os.path.join(model_dir, "seq2seq.keras"))
    with open(os.path.join(model_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tokenizer.vocabulary) + "\n")
    base = os.path.join(root, "saved_models", "bench")
    subprocess.run(unilmv2("export", f"--model_dir={model_dir}", f"--export_dir={base}",
                           "--beam_size=2"), check=True, capture_output=True)
    return base


def wait_until_serving(client, process):
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"unilmv2 serve exited: {process.stderr.read()[-2000:]}")
        try:
            client.model_status("bench")
            return
        except ServingError:
            time.sleep(0.5)
    raise TimeoutError("the server did not come up")


def timed(call, requests):
    call()  # warm-up (traces, connections)
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--output", default=os.path.join(HERE, "serving.json"))
    args = parser.parse_args()
    texts = [r["source"] for r in read_jsonl_records(FIXTURE, ["source"], 8)]
    root = tempfile.mkdtemp(prefix="serving-bench-")
    base = export(root, args.preset)
    loaded = tf.saved_model.load(os.path.join(base, "1"))
    grpc_port, rest_port = free_port(), free_port()
    server = subprocess.Popen(
        unilmv2("serve", "--model_name=bench", f"--model_base_path={base}",
                f"--port={grpc_port}", f"--rest_api_port={rest_port}"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    rows = []
    try:
        grpc_client = ServingClient(f"127.0.0.1:{grpc_port}", "grpc")
        rest_client = ServingClient(f"127.0.0.1:{rest_port}", "rest")
        wait_until_serving(grpc_client, server)
        for signature in ("encode", "generate"):
            for batch in (1, 8):
                inputs = texts[:batch]
                paths = {
                    "in-process": lambda: loaded.signatures[signature](
                        **{"text": tf.constant(inputs)}) if signature == "encode"
                    else loaded.generate(tf.constant(inputs)),
                    "gRPC": lambda: grpc_client.predict("bench", {"text": inputs}, signature),
                    "REST": lambda: rest_client.predict("bench", {"text": inputs}, signature),
                }
                direct = None
                for path, call in paths.items():
                    latencies = np.array(timed(call, args.requests)) * 1000
                    mean = latencies.mean()
                    direct = direct or mean
                    rows.append({"signature": signature, "batch": batch, "path": path,
                                 "requests_per_s": round(1000 / mean, 2),
                                 "texts_per_s": round(1000 * batch / mean, 2),
                                 "p50_ms": round(float(np.percentile(latencies, 50)), 1),
                                 "p99_ms": round(float(np.percentile(latencies, 99)), 1),
                                 "vs_in_process": round(mean / direct, 2)})
                    print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    header = (f"{'signature':<9} {'batch':>5} {'path':<10} {'req/s':>7} {'texts/s':>8} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'time vs in-process':>19}")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['signature']:<9} {r['batch']:>5} {r['path']:<10} {r['requests_per_s']:>7} "
              f"{r['texts_per_s']:>8} {r['p50_ms']:>7} {r['p99_ms']:>7} "
              f"{r['vs_in_process']:>18}x")
    write_report(args.output, {"preset": args.preset, "requests_per_cell": args.requests,
                               "source_length": 64, "target_length": 16, "beam_size": 2,
                               "results": rows})


if __name__ == "__main__":
    main()
