"""Export -> SavedModel -> local TF-Serving-protocol server -> ServingClient, end to end.

One tiny Seq2SeqLM is exported (in a subprocess, through `unilmv2 export`) as versions 1 and
2; the server runs in this process on 127.0.0.1 with free ports.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

import grpc
from conftest import REPO
from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.export import ServingClient, ServingError, read_model_config
from unilmv2_tf.models import Seq2SeqLM
from unilmv2_tf.preprocessing import WordPieceTokenizer
from unilmv2_tf.serving import ModelServer

TEXTS = ["Call me Ishmael.", "Some years ago, never mind how long precisely, I thought I "
         "would sail about a little and see the watery part of the world.", ""]
MAX_REQUEST_BYTES = 4 << 20


def unilmv2(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-m", "unilmv2_tf.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=600, cwd=REPO)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A finetune-seq2seq-style model folder, exported twice by the CLI."""
    root = tmp_path_factory.mktemp("serving")
    model_dir = root / "summarizer_model"
    model_dir.mkdir()
    tokenizer = WordPieceTokenizer()
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=tokenizer.vocabulary_size)
    model = Seq2SeqLM(backbone, max_source_length=24, max_target_length=8, tokenizer=tokenizer)
    model.generate(["warm up"])  # builds the LM head
    model.save(model_dir / "seq2seq.keras")
    (model_dir / "vocab.txt").write_text("\n".join(tokenizer.vocabulary) + "\n")
    base = root / "saved_models" / "summarizer"
    for _ in range(2):
        result = unilmv2("export", f"--model_dir={model_dir}", f"--export_dir={base}",
                         "--beam_size=2", "--length_penalty=0.6")
        assert result.returncode == 0, result.stderr[-3000:]
    return root, model_dir, base, model, result.stdout


@pytest.fixture(scope="module")
def server(exported):
    root, _, base, _, _ = exported
    config = root / "saved_models" / "models.config"
    extra = (f'config {{ name: "summarizer_all" base_path: "{base}" model_platform: '
             f'"tensorflow" model_version_policy {{ all {{}} }} }}\n}}\n')
    text = config.read_text().rstrip().rstrip("}") + extra  # a second name, all versions
    config.write_text(text)
    with ModelServer(read_model_config(str(config)), poll_seconds=0.2,
                     max_request_bytes=MAX_REQUEST_BYTES) as running:
        yield running


def clients(server):
    return [ServingClient(f"127.0.0.1:{server.grpc_port}", "grpc"),
            ServingClient(f"127.0.0.1:{server.rest_port}", "rest")]


def rest(server, path, body=None, raw=None):
    """(HTTP status, parsed JSON) of a raw REST call."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}/v1/models/{path}",
                                     data=data, method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_export_layout_config_and_signatures(exported):
    root, model_dir, base, _, stdout = exported
    assert sorted(os.listdir(base)) == ["1", "2"] and "signatures: generate" in stdout
    assert (base / "1" / "assets" / "vocab.txt").exists()
    models = read_model_config(str(root / "saved_models" / "models.config"))
    assert models == {"summarizer": (str(base), ("latest", 1))}
    again = unilmv2("export", f"--model_dir={model_dir}", f"--export_dir={base}", "--version=1")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert sorted(os.listdir(base)) == ["1", "2"]  # nothing half-written left behind
    shown = subprocess.run([os.path.join(os.path.dirname(sys.executable), "saved_model_cli"),
                            "show", "--dir", str(base / "1"), "--all"],
                           capture_output=True, text=True, timeout=300)
    for name in ("generate", "encode", "encode_ids", "serving_default", "generated_text",
                 "pooled_output"):
        assert f"'{name}'" in shown.stdout or f"['{name}']" in shown.stdout, name


def test_loaded_savedmodel_matches_the_keras_model(exported):
    _, _, base, model, _ = exported
    loaded = tf.saved_model.load(str(base / "1"))
    encoded = loaded.signatures["encode"](text=tf.constant(TEXTS))
    ids, mask = encoded["token_ids"].numpy(), encoded["padding_mask"].numpy()
    assert ids.shape == (3, 24) and mask[1].all() and mask[2].sum() == 2  # truncated; [CLS][SEP]
    expected = model.backbone({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                               "position_ids": np.arange(24)[None] * mask, "padding_mask": mask,
                               "step_weights": np.zeros_like(ids)})["sequence_output"]
    np.testing.assert_allclose(encoded["sequence_output"], expected, atol=1e-5)
    np.testing.assert_allclose(encoded["pooled_output"], expected[:, 0], atol=1e-5)
    # The export runs without XLA (TF Serving disables it), so compare with the same path.
    texts, scores = model.generate(TEXTS, beam_size=2, length_penalty=0.6, ngram_size=3,
                                   ngram_ignore_ids=[1012], return_scores=True,
                                   jit_compile=False)
    generated = loaded.generate(tf.constant(TEXTS))  # the tf.function keeps its defaults
    assert [t.decode() for t in generated["generated_text"].numpy()] == texts
    np.testing.assert_allclose(generated["scores"], scores, atol=1e-4)
    ids = model.generate([model.tokenizer.tokenize(TEXTS).to_list()[0]], beam_size=2,
                         length_penalty=0.6, ngram_ignore_ids=[1012], jit_compile=False)[0]
    assert generated["token_ids"].numpy()[0][:len(ids)].tolist() == ids
    short = loaded.generate(tf.constant(TEXTS), max_length=tf.constant(2))
    assert (short["token_ids"].numpy()[:, 2:] == 0).all()


def test_savedmodel_as_a_keras_layer(exported):
    _, _, base, _, _ = exported
    text = keras.Input(shape=(), dtype="string")
    encoder = keras.layers.TFSMLayer(str(base / "2"), call_endpoint="encode")
    logits = keras.layers.Dense(3)(encoder(text)["pooled_output"])
    classifier = keras.Model(text, logits)
    assert classifier.predict(tf.constant(TEXTS), verbose=0).shape == (3, 3)


def test_predict_over_grpc_and_rest_agree_with_the_savedmodel(exported, server):
    _, _, base, _, _ = exported
    loaded = tf.saved_model.load(str(base / "2"))
    expected_text = loaded.generate(tf.constant(TEXTS))["generated_text"].numpy()
    expected_pooled = loaded.signatures["encode"](text=tf.constant(TEXTS))["pooled_output"]
    for client in clients(server):
        generated = client.predict("summarizer", {"text": TEXTS})  # serving_default
        assert generated["generated_text"].tolist() == expected_text.tolist(), client.protocol
        assert generated["token_ids"].dtype == np.int32
        encoded = client.predict("summarizer", {"text": TEXTS}, signature_name="encode")
        np.testing.assert_allclose(encoded["pooled_output"], expected_pooled, atol=1e-5)
        assert set(encoded) == {"sequence_output", "pooled_output", "token_ids", "padding_mask"}
        ids = client.predict("summarizer", {"token_ids": encoded["token_ids"],
                                            "segment_ids": np.zeros_like(encoded["token_ids"]),
                                            "padding_mask": encoded["padding_mask"]},
                             signature_name="encode_ids")
        np.testing.assert_allclose(ids["pooled_output"], expected_pooled, atol=1e-5)
        short = client.predict("summarizer", {"text": TEXTS, "max_length": 2},
                               signature_name="generate")
        assert (short["token_ids"][:, 2:] == 0).all() and short["token_ids"].shape == (3, 8)
        signatures = client.signature_defs("summarizer")
        assert {"generate", "encode", "encode_ids", "serving_default"} <= set(signatures)
        assert set(signatures["generate"].defaults) == {"max_length", "min_length",
                                                        "length_penalty"}
        client.close()


def test_rest_row_and_columnar_formats(server):
    status, rows = rest(server, "summarizer:predict", {"instances": TEXTS[:2]})
    assert status == 200 and len(rows["predictions"]) == 2
    assert set(rows["predictions"][0]) == {"generated_text", "scores", "token_ids"}
    status, named = rest(server, "summarizer:predict",
                         {"instances": [{"text": t} for t in TEXTS[:2]]})
    assert status == 200 and named == rows
    b64 = [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS[:2]]
    status, columns = rest(server, "summarizer:predict", {"inputs": {"text": b64}})
    assert status == 200
    assert columns["outputs"]["generated_text"] == [p["generated_text"] for p in
                                                    rows["predictions"]]
    status, encoded = rest(server, "summarizer/versions/2:predict",
                           {"signature_name": "encode", "inputs": TEXTS[:1]})
    assert status == 200 and np.asarray(encoded["outputs"]["sequence_output"]).shape == (1, 24, 64)


def test_versions_status_metadata_and_hot_added_version(exported, server):
    _, _, base, _, _ = exported
    grpc_client, rest_client = clients(server)
    for client in (grpc_client, rest_client):
        assert client.model_status("summarizer") == [
            {"version": 2, "state": "AVAILABLE", "error_message": ""}]
        assert [s["version"] for s in client.model_status("summarizer_all")] == [2, 1]
        with pytest.raises(ServingError) as e:
            client.predict("summarizer", {"text": TEXTS}, version=1)
        assert e.value.code == "NOT_FOUND" and "version 1" in e.value.message
        one = client.predict("summarizer_all", {"text": TEXTS[:1]}, version=1)
        assert one["generated_text"].shape == (1,)
    status, metadata = rest(server, "summarizer/metadata")
    assert status == 200 and metadata["model_spec"]["version"] == "2"
    assert "generate" in metadata["metadata"]["signature_def"]["signature_def"]

    staging = base / ".staging-3"
    shutil.copytree(base / "2", staging)
    os.rename(staging, base / "3")  # dropped in atomically, as `unilmv2 export` does
    deadline = time.time() + 60
    while time.time() < deadline and grpc_client.model_status("summarizer")[0]["version"] != 3:
        time.sleep(0.2)
    assert grpc_client.model_status("summarizer") == [
        {"version": 3, "state": "AVAILABLE", "error_message": ""}]
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "summarizer"
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(np.array([b"hi"], object)))
    assert stub.Predict(request, timeout=60).model_spec.version.value == 3
    shutil.rmtree(base / "3")  # back to the state the other tests expect
    while time.time() < deadline and grpc_client.model_status("summarizer")[0]["version"] != 2:
        time.sleep(0.2)
    grpc_client.close()


def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(server):
    grpc_client, rest_client = clients(server)
    long_text = "whale " * 200_000  # 1.2 MB: truncated to the model's length, still answered
    for client in (grpc_client, rest_client):
        for text in ("", long_text):
            assert client.predict("summarizer", {"text": [text]})["generated_text"].shape == (1,)
        cases = [
            ({"text": [b"ok", b"\xff\xfe bad"]}, {}, "INVALID_ARGUMENT", "not valid UTF-8"),
            ({"txt": ["a"]}, {}, "INVALID_ARGUMENT", "'txt'"),
            ({"text": [[1, 2]]}, {}, "INVALID_ARGUMENT", "DT_STRING"),
            ({"text": [["a", "b"]]}, {}, "INVALID_ARGUMENT", "shape"),
            ({"text": ["a"], "max_length": 99}, {"signature_name": "generate"},
             "INVALID_ARGUMENT", "max_length must be <= 8"),
            ({"text": ["a"], "length_penalty": -1.0}, {"signature_name": "generate"},
             "INVALID_ARGUMENT", "length_penalty must be >= 0"),
            ({"text": ["a"]}, {"signature_name": "nope"}, "NOT_FOUND", "nope"),
            ({"text": ["a"]}, {"version": 7}, "NOT_FOUND", "version 7"),
            ({"text": ["x" * (MAX_REQUEST_BYTES + 10)]}, {}, "RESOURCE_EXHAUSTED", ""),
        ]
        for inputs, options, code, words in cases:
            with pytest.raises(ServingError) as e:
                client.predict("summarizer", inputs, **options)
            assert e.value.code == code and words in e.value.message, (client.protocol, e.value)
        with pytest.raises(ServingError) as e:
            client.predict("no_such_model", {"text": ["a"]})
        assert e.value.code == "NOT_FOUND" and "no_such_model" in e.value.message
    bad_json = [(b"{not json", 400, "JSON"), (b'{"instances": []}', 400, "non-empty"),
                (b'{"instances": ["a"], "inputs": ["a"]}', 400, "exactly one"),
                (b'{"inputs": {"text": [["a"], ["b", "c"]]}}', 400, "rectangular"),
                (b'{"instances": [{"b64": "%%%"}]}', 400, "base64")]
    for raw, status, words in bad_json:
        got, body = rest(server, "summarizer:predict", raw=raw)
        assert got == status and words in body["error"], (raw, body)
    assert rest(server, "nope:predict", {"instances": ["a"]})[0] == 404
    assert rest(server, "summarizer/versions/x:predict", {"instances": ["a"]})[0] == 400
    assert rest(server, "summarizer:classify", {"examples": []})[0] == 501
    # ...and the server still answers correctly.
    for client in (grpc_client, rest_client):
        assert client.predict("summarizer", {"text": TEXTS})["generated_text"].shape == (3,)
    grpc_client.close()


@pytest.mark.slow
def test_concurrent_load(server):
    """8 concurrent clients (4 gRPC, 4 REST) for about 20 s: no errors, correct answers."""
    expected = clients(server)[0].predict("summarizer", {"text": TEXTS})["generated_text"]
    latencies, errors = [], []
    stop = time.time() + 20

    def work(client):
        while time.time() < stop:
            started = time.perf_counter()
            try:
                out = client.predict("summarizer", {"text": TEXTS})["generated_text"]
                if out.tolist() != expected.tolist():
                    errors.append(f"wrong answer {out}")
            except Exception as e:  # noqa: BLE001 (every failure counts)
                errors.append(repr(e))
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=work, args=(clients(server)[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(f"\n{len(latencies)} requests, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    assert not errors and len(latencies) >= 8
