"""QA windowing and offsets, SpanQA heads and loss, SQuAD metrics, the SQuAD recipe."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURES, REPO
from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.export import QAServingModule, ServingClient
from unilmv2_tf.metrics import exact_match, normalize_answer, squad_scores, token_f1
from unilmv2_tf.models import SpanQA
from unilmv2_tf.preprocessing import QAWindower
from unilmv2_tf.serving import ModelServer

PASSAGE = ("Der Café-Besitzer Zoë fährt nach Köln. " * 6 + "The naïve captain, Ahab, hunts "
           "Moby Dick 🐋 across the Pacific. " + "Filler words keep going here. " * 8)
ANSWER = "Ahab"


def example(context=PASSAGE, answer=ANSWER, qid="q1"):
    start = context.index(answer)
    return {"id": qid, "question": "Who is the captain?", "context": context,
            "answers": [{"text": answer, "answer_start": start}], "is_impossible": False}


def test_windows_cover_long_unicode_passages_and_map_answers_back(tokenizer):
    windower = QAWindower(tokenizer, sequence_length=48, doc_stride=16, max_query_length=8)
    features, windows = windower.windows([example()], training=True)
    assert len(windows) > 3 and features["token_ids"].shape == (len(windows), 48)
    holding = np.nonzero(features["answerable"])[0]
    assert holding.size >= 1
    for row in holding:
        chars = windows[row]["token_chars"]
        start, end = features["start_positions"][row], features["end_positions"][row]
        assert PASSAGE[chars[start][0]:chars[end][1]] == ANSWER
    # Every passage token of every window maps to text inside the passage.
    for window in windows:
        spans = [c for c in window["token_chars"] if c is not None]
        assert spans and all(0 <= s < e <= len(PASSAGE) for s, e in spans)
    # Consecutive windows overlap: the stride is smaller than the passage budget.
    first = {c for c in windows[0]["token_chars"] if c}
    assert first & {c for c in windows[1]["token_chars"] if c}


def test_best_answers_returns_exact_text_within_limits(tokenizer):
    windower = QAWindower(tokenizer, sequence_length=48, doc_stride=16, max_query_length=8)
    examples = [example(), example(answer="Moby Dick 🐋", qid="q2")]
    features, windows = windower.windows(examples, training=True)
    outputs = {"start_logits": np.zeros((len(windows), 48)),
               "end_logits": np.zeros((len(windows), 48)),
               "answerable_logits": np.full(len(windows), 2.0)}
    for row in np.nonzero(features["answerable"])[0]:  # oracle logits on the gold span
        outputs["start_logits"][row, features["start_positions"][row]] = 10.0
        outputs["end_logits"][row, features["end_positions"][row]] = 10.0
    answers = QAWindower.best_answers(examples, windows, outputs)
    assert answers["q1"]["text"] == "Ahab"
    assert answers["q2"]["text"] == "Moby Dick 🐋"
    assert PASSAGE[answers["q2"]["start"]:answers["q2"]["end"]] == "Moby Dick 🐋"
    short = QAWindower.best_answers(examples, windows, outputs, max_answer_length=1)
    assert short["q2"]["text"] != "Moby Dick 🐋"  # 4 pieces do not fit in 1
    outputs["answerable_logits"][:] = -3.0
    assert QAWindower.best_answers(examples, windows, outputs,
                                   allow_no_answer=True)["q1"]["text"] == ""


def test_span_qa_masks_non_passage_tokens_and_weights_the_loss():
    model = SpanQA(UniLMv2Backbone.from_size("tiny", vocab_size=200))
    ids = np.array([[101, 7, 102, 8, 9, 102, 0], [101, 5, 102, 6, 6, 102, 0]])
    inputs = {"token_ids": ids, "segment_ids": np.array([[0, 0, 0, 1, 1, 1, 0]] * 2),
              "padding_mask": (ids > 0) * 1}
    out = model(inputs)
    start = out["start_logits"].numpy()
    assert (start[:, [0, 1, 2, 6]] <= -1e4).all() and (start[:, 3:6] > -1e4).all()
    y = {"start_positions": np.array([3, 0]), "end_positions": np.array([4, 0]),
         "answerable": np.array([1, 0])}
    loss = model.compute_loss(inputs, y, out)
    # The unanswerable row's (impossible) span targets must not count.
    y_other = dict(y, start_positions=np.array([3, 5]), end_positions=np.array([4, 5]))
    assert float(loss) == pytest.approx(float(model.compute_loss(inputs, y_other, out)))
    with pytest.raises(ValueError, match="max_query_length"):
        QAWindower(None, sequence_length=32, max_query_length=64)


def test_answer_signature_matches_best_answers_over_every_span(tokenizer):
    """The in-graph search equals the Python post-processing (given every candidate) on
    passages that fit one window: same text, character offsets and score, unicode included."""
    keras.utils.set_random_seed(3)
    length, max_answer = 256, 6
    model = SpanQA(UniLMv2Backbone.from_size("tiny", vocab_size=tokenizer.vocabulary_size,
                                             max_position_embeddings=length))
    settings = {"sequence_length": length, "max_query_length": 8,
                "max_answer_length": max_answer, "version_2_with_negative": False}
    short = "Zoë fährt nach Köln. Ahab hunts Moby Dick 🐋 across the Pacific."
    examples = [example(qid="long"), example(short, "Ahab", "short"),
                {**example(short, "Ahab", "query"), "question": "who " * 20 + "hunts?"},
                {**example("Ahab", "Ahab", "tiny"), "question": ""}]
    windower = QAWindower(tokenizer, sequence_length=length, doc_stride=64, max_query_length=8)
    features, windows = windower.windows(examples)
    assert len(windows) == len(examples)  # one window each
    outputs = {k: np.asarray(v) for k, v in model(features).items()}
    expected = QAWindower.best_answers(examples, windows, outputs, max_answer, n_best=length)
    module = QAServingModule(model, tokenizer, settings)
    got = module.answer(tf.constant([e["question"] for e in examples]),
                        tf.constant([e["context"] for e in examples]))
    for row, e in enumerate(examples):
        want = expected[e["id"]]
        assert got["answer"].numpy()[row].decode() == want["text"], e["id"]
        assert (got["start"].numpy()[row], got["end"].numpy()[row]) == (want["start"],
                                                                         want["end"])
        np.testing.assert_allclose(got["score"].numpy()[row], want["score"], rtol=1e-5)
    # SQuAD 2.0 settings: a passage judged unanswerable gives "" and -1 offsets.
    strict = QAServingModule(model, tokenizer, {**settings, "version_2_with_negative": True})
    judged = strict.answer(tf.constant(["Who?"]), tf.constant([short]))
    if judged["answerable_probability"].numpy()[0] < 0.5:
        assert judged["answer"].numpy()[0] == b"" and judged["start"].numpy()[0] == -1
    else:
        assert judged["answer"].numpy()[0] != b""
    with pytest.raises(ValueError, match="max_query_length"):
        QAServingModule(model, tokenizer, {**settings, "sequence_length": 12})


def test_squad_metrics_follow_the_official_rules():
    assert normalize_answer("The Pacific Ocean!") == "pacific ocean"
    assert exact_match("the Pacific", "Pacific.") == 1.0
    assert token_f1("Ahab the captain", "captain Ahab") == pytest.approx(2 * 1.0 * (2 / 2)
                                                                         / (1.0 + 1.0))
    assert token_f1("a", "b c") == 0.0
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0
    examples = [{"id": "1", "answers": [{"text": "Moby Dick"}, {"text": "the whale"}]},
                {"id": "2", "answers": []}]
    scores = squad_scores({"1": "whale", "2": ""}, examples)
    # q1: best over golds: EM 1 ("the whale" -> "whale"), F1 1; q2: no answer, predicted "".
    assert scores == {"exact_match": 100.0, "f1": 100.0, "examples": 2}
    assert squad_scores({}, examples)["f1"] == 0.0


@pytest.mark.slow
def test_squad_recipe_runs_on_the_fixture(tmp_path):
    env = {**os.environ, "PY": sys.executable, "TRAIN_STEPS": "4", "CHECKPOINT_EVERY": "2",
           "BATCH_SIZE": "4", "SEQUENCE_LENGTH": "64", "DOC_STRIDE": "16",
           "MAX_QUERY_LENGTH": "16",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(["bash", "tasks/squad/run.sh",
                             os.path.join(FIXTURES, "squad_train.json"),
                             os.path.join(FIXTURES, "squad_dev.json"), str(tmp_path / "qa")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "qa" / "dev_metrics.json").read_text())
    assert metrics["examples"] == 2 and 0.0 <= metrics["f1"] <= 100.0
    predictions = json.loads((tmp_path / "qa" / "dev_predictions.json").read_text())
    dev = json.loads(open(os.path.join(FIXTURES, "squad_dev.json")).read())
    context = dev["data"][0]["paragraphs"][0]["context"]
    for answer in predictions.values():  # every answer is a verbatim span of its passage
        assert context[answer["start"]:answer["end"]] == answer["text"]
    # The folder is a keras-hub preset of the same model.
    preset = SpanQA.from_preset(str(tmp_path / "qa"))
    saved = keras.saving.load_model(tmp_path / "qa" / "spanqa.keras", compile=False)
    assert all(np.array_equal(a, b) for a, b in zip(preset.get_weights(), saved.get_weights()))

    # The export answers from text, in the SavedModel and over TF Serving's gRPC and REST.
    base = tmp_path / "saved_models" / "qa"
    export = subprocess.run([sys.executable, "-m", "unilmv2_tf.cli.main", "export",
                             f"--model_dir={tmp_path / 'qa'}", f"--export_dir={base}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert export.returncode == 0 and "signatures: answer" in export.stdout, export.stderr
    questions = [q["question"] for q in dev["data"][0]["paragraphs"][0]["qas"]]
    inputs = {"question": questions, "context": [context] * len(questions)}
    loaded = tf.saved_model.load(str(base / "1"))
    expected = loaded.signatures["answer"](**{k: tf.constant(v) for k, v in inputs.items()})
    for row, text in enumerate(expected["answer"].numpy()):
        start, end = expected["start"].numpy()[row], expected["end"].numpy()[row]
        assert context[start:end] == text.decode()
    with ModelServer({"qa": str(base)}) as server:
        for client in (ServingClient(f"127.0.0.1:{server.grpc_port}", "grpc"),
                       ServingClient(f"127.0.0.1:{server.rest_port}", "rest")):
            got = client.predict("qa", inputs)  # serving_default = answer
            assert got["answer"].tolist() == expected["answer"].numpy().tolist()
            np.testing.assert_array_equal(got["start"], expected["start"].numpy())
            np.testing.assert_allclose(got["score"], expected["score"].numpy(), rtol=1e-6)
            client.close()
