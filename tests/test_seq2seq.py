"""Seq2seq packing, the label-smoothed loss, teacher-forcing parity, Seq2SeqLM end to end."""

import json
import os

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURES
from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.data import make_seq2seq_dataset, read_jsonl_records
from unilmv2_tf.layers import PseudoMaskAttentionMask
from unilmv2_tf.metrics import bleu4, rouge_scores
from unilmv2_tf.models import Seq2SeqLM, label_smoothed_cross_entropy
from unilmv2_tf.preprocessing import Seq2SeqPacker, WordPieceTokenizer

TRAIN = os.path.join(FIXTURES, "synopsis_train.jsonl")
VALID = os.path.join(FIXTURES, "synopsis_valid.jsonl")


def packer(**options):
    return Seq2SeqPacker(8, 5, cls_id=101, sep_id=102, mask_id=103, vocabulary_size=30522,
                         **options)


def test_packer_layout_and_attention_rules():
    x = packer(target_mask_prob=0.0, mask_token_rate=1.0, random_token_rate=0.0)(
        tf.ragged.constant([[7, 8, 9], [5]]), tf.ragged.constant([[11, 12], [13, 14, 15, 16]]),
        seed=[0, 0])
    np.testing.assert_array_equal(x["token_ids"][0], [101, 7, 8, 9, 102, 0, 0, 0,
                                                      11, 12, 102, 0, 0,
                                                      103, 103, 103, 0, 0])
    np.testing.assert_array_equal(x["position_ids"][0], [0, 1, 2, 3, 4, 0, 0, 0,
                                                         5, 6, 7, 0, 0, 5, 6, 7, 0, 0])
    # Row 2: the target is truncated to max_target_length - 1 pieces, then [SEP].
    np.testing.assert_array_equal(x["labels"][1], [13, 14, 15, 16, 102])
    np.testing.assert_array_equal(x["segment_ids"][1], [0] * 8 + [1] * 10)
    mask = PseudoMaskAttentionMask()(x["step_weights"], x["padding_mask"]).numpy()[0]
    source, target, pseudo = range(0, 5), range(8, 11), range(13, 16)
    for j, (t, p) in enumerate(zip(target, pseudo)):
        assert mask[t, list(source)].all() and mask[p, list(source)].all()
        assert mask[t, list(target)].tolist() == [k <= j for k in range(3)]
        assert mask[p, list(target)].tolist() == [k < j for k in range(3)]
        assert mask[p, list(pseudo)].tolist() == [k == j for k in range(3)]
        assert not mask[t, list(pseudo)].any()
    assert not mask[list(source)][:, 8:].any()


def test_packer_truncates_long_and_keeps_empty_sources():
    x = packer()(tf.ragged.constant([list(range(1000, 1100)), []], dtype=tf.int32),
                 tf.ragged.constant([[11], [12]]), seed=[1, 2])
    np.testing.assert_array_equal(x["token_ids"][0, :8], [101] + list(range(1000, 1006)) + [102])
    np.testing.assert_array_equal(x["token_ids"][1, :3], [101, 102, 0])
    assert x["position_ids"][1, 8] == 2  # the target starts right after [CLS] [SEP]


def test_packer_corruption_and_word_drop_rates():
    n = 4000
    targets = tf.RaggedTensor.from_tensor(tf.fill([n, 4], 2000))
    x = packer(target_mask_prob=0.5)(tf.ragged.constant([[7]] * n), targets, seed=[3, 4])
    pseudo = x["token_ids"][:, 13:17].numpy().ravel()
    assert abs(np.mean(pseudo == 103) - 0.8) < 0.02
    assert abs(np.mean(pseudo == 2000) - 0.1) < 0.02  # kept
    teacher = x["token_ids"][:, 8:12].numpy().ravel()
    # Half the target words are dropped; a drop changes the word unless its draw kept it.
    assert abs(np.mean(teacher != 2000) - 0.5 * 0.9) < 0.03
    assert np.all((teacher == 2000) | (teacher == pseudo))  # a dropped word takes the [P] id


def test_label_smoothed_loss_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype("float32")
    labels = np.array([[1, 4, 0], [6, 2, 3]])
    weights = np.array([[1, 1, 0], [1, 1, 1]], "float32")
    eps = 0.1
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    q = np.full(logits.shape, eps / 5)
    q[..., 0] = 0.0
    np.put_along_axis(q, labels[..., None], 1 - eps, -1)
    kl = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1)) - log_p), 0).sum(-1)
    want = (kl * weights).sum() / weights.sum()
    loss, nll, _, total = label_smoothed_cross_entropy(labels, logits, weights, eps)
    assert float(total) == 5.0
    np.testing.assert_allclose(loss / total, want, rtol=1e-5)
    plain, _, _, _ = label_smoothed_cross_entropy(labels, logits, weights, 0.0)
    np.testing.assert_allclose(plain, nll, rtol=1e-6)


@pytest.fixture(scope="module")
def model(tokenizer):
    keras.utils.set_random_seed(2)
    backbone = UniLMv2Backbone.from_size("tiny", max_position_embeddings=32,
                                           hidden_dropout=0.0, attention_dropout=0.0)
    return Seq2SeqLM(backbone.with_max_positions(48), 32, 12, tokenizer=tokenizer)


def test_with_max_positions_tiles_the_table(model):
    backbone = model.backbone
    table = backbone.embeddings.position_embedding.embeddings.numpy()
    assert table.shape[0] == 48
    np.testing.assert_array_equal(table[32:], table[:16])
    with pytest.raises(ValueError, match="with_max_positions"):
        Seq2SeqLM(UniLMv2Backbone.from_size("tiny", max_position_embeddings=32), 30, 10)


def test_teacher_forced_outputs_equal_decoder_steps(model):
    pieces = model.tokenizer.tokenize(["a small tool to convert images", "x"])
    targets = model.tokenizer.tokenize(["image converter", "the y value of z"])
    x = model.packer(target_mask_prob=0.0, mask_token_rate=1.0, random_token_rate=0.0)(
        pieces, targets, seed=[0, 0])
    train_log_probs = tf.nn.log_softmax(model(x), -1).numpy()
    decoder = model.decoder()
    log_probs, state = decoder.start(model.packer().pack_source(pieces))
    real = x["label_weights"].numpy() > 0
    assert real[:, :4].all() and not real[0, 4:].any()
    for step in range(8):  # padded steps of the shorter target are no outputs: skip them
        np.testing.assert_allclose(log_probs[real[:, step]],
                                   train_log_probs[real[:, step], step], atol=1e-4)
        log_probs, state = decoder.step(state, x["labels"][:, step], step + 1)


def test_generate_text_in_text_out(model):
    texts = ["a command line tool for images", "", "word " * 100000]  # ~0.5 MB, truncated
    outputs, scores = model.generate(texts, beam_size=2, return_scores=True, batch_size=2)
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    assert np.isfinite(scores).all()
    assert model.generate(texts[:1], beam_size=2) == outputs[:1]  # batch-independent
    ids = model.generate([[2000, 2001]], max_length=4)
    assert isinstance(ids[0], list) and len(ids[0]) <= 4
    assert model.generate([]) == []
    with pytest.raises(ValueError, match="max_length"):
        model.generate(["x"], max_length=99)
    bare = Seq2SeqLM(model.backbone, 32, 12)
    with pytest.raises(ValueError, match="tokenizer"):
        bare.generate("x")


def test_generate_jit_compile_auto_is_xla_and_decodes_as_without_it(model):
    texts = ["a command line tool for images", "fonts for the console"]
    model._search_functions.clear()
    auto, auto_scores = model.generate(texts, beam_size=2, return_scores=True)
    plain, plain_scores = model.generate(texts, beam_size=2, return_scores=True,
                                         jit_compile=False)
    assert auto == plain
    np.testing.assert_allclose(auto_scores, plain_scores, atol=1e-4)
    one, one_score = model.generate(texts[0], return_scores=True)  # one source, greedy
    plain_one, plain_one_score = model.generate(texts[0], return_scores=True,
                                                jit_compile=False)
    assert one == plain_one
    np.testing.assert_allclose(one_score, plain_one_score, atol=1e-4)
    built = {(dict(options)["beam_size"], jit) for _, jit, _, options in
             model._search_functions}
    assert built == {(2, True), (2, False), (1, True), (1, False)}
    with pytest.raises(ValueError, match="jit_compile"):
        model.generate(texts, jit_compile="yes")


def test_generate_takes_keras_hub_input_forms(model):
    texts = ["a command line tool for images", "fonts for the console", "a web browser"]
    want = model.generate(texts, max_length=4)
    dataset = tf.data.Dataset.from_tensor_slices(texts)
    for inputs in (dataset.batch(2), dataset, {"encoder_text": texts},
                   {"encoder_text": tf.constant(texts)}, tf.constant(texts),
                   tf.data.Dataset.from_tensor_slices({"encoder_text": texts}).batch(2)):
        assert model.generate(inputs, max_length=4) == want
    assert model.generate(tf.constant(texts[0]), max_length=4) == want[:1]
    assert model.generate(dataset.take(0)) == []
    with pytest.raises(ValueError, match="'encoder_text' only"):
        model.generate({"encoder_text": texts, "decoder_text": texts})


def test_generate_takes_keras_hub_samplers_from_compile_or_the_call():
    samplers = keras_hub.samplers
    keras.utils.set_random_seed(11)
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=200, hidden_size=32, num_heads=2,
                                         intermediate_size=64, max_position_embeddings=32)
    # Larger embeddings than the 0.02 init: the logits depend on the context, so beam
    # search, greedy search and draws part ways.
    backbone.token_embedding.embeddings.assign(
        np.random.default_rng(0).normal(0.0, 0.5, (200, 32)))
    model = Seq2SeqLM(backbone, 20, 8)
    sources = [[7, 8, 9, 10], [11, 12], [13, 14, 15, 16, 17, 18]]

    def generate(**options):  # without XLA: one trace per sampler, not a compilation each
        return model.generate(sources, jit_compile=False, **options)

    greedy, beam = generate(), generate(beam_size=3)
    assert greedy != beam, "the test would not tell beam search from greedy"
    assert generate(sampler="greedy") == greedy
    assert generate(sampler=samplers.BeamSampler(3)) == beam
    assert generate(sampler=samplers.TopKSampler(k=1)) == greedy
    drawn = generate(sampler=samplers.RandomSampler(seed=5))
    assert drawn != greedy
    again = samplers.RandomSampler(seed=5)
    assert generate(sampler=again) == drawn  # a fresh seed repeats its draws
    assert generate(sampler=again) != drawn  # its state has moved on
    by_name = generate(sampler="random")
    traced = len(model._search_functions)
    assert generate(sampler="random") != by_name  # one instance per name, its state moves on
    assert len(model._search_functions) == traced  # and no new trace
    model.compile(sampler=samplers.BeamSampler(num_beams=3))
    assert generate() == beam
    model.compile(sampler="top_p")
    with pytest.raises(ValueError, match="beam_size=2 with the sampler TopPSampler"):
        generate(beam_size=2)
    for sampler, beam_size, message in (
            (samplers.BeamSampler(3), 2, "disagrees with the BeamSampler's num_beams=3"),
            (samplers.BeamSampler(3, return_all_beams=True), None, "return_all_beams"),
            (samplers.ContrastiveSampler(), None, "ContrastiveSampler is not supported"),
            (samplers.SpeculativeSampler(), None, "SpeculativeSampler is not supported"),
            ("no_such_sampler", None, "Unknown sampler .no_such_sampler.")):
        with pytest.raises(ValueError, match=message):
            generate(beam_size=beam_size, sampler=sampler)


def test_generate_over_trimmed_sources_equals_the_full_padded_width(model):
    from unilmv2_tf.generation import beam_search
    from unilmv2_tf.models.seq2seq_lm import source_width

    pieces = model.tokenizer.tokenize(["a small tool to convert images", "x y z"])
    outputs, scores = model.generate(pieces, beam_size=2, return_scores=True)
    source = model.packer().pack_source(pieces)  # all 32 slots
    assert source_width(source["source_length"].numpy(), 32) == 16
    full = beam_search(model.decoder(), {k: source[k] for k in ("token_ids", "padding_mask")},
                       model.sep_id, beam_size=2, length_penalty=0.0, ngram_size=3)
    expected = [row[:n - 1].tolist() if n and row[n - 1] == model.sep_id else row[:n].tolist()
                for row, n in zip(full["token_ids"].numpy(), full["lengths"].numpy())]
    assert outputs == expected
    np.testing.assert_allclose(scores, full["scores"].numpy(), atol=1e-5)


@pytest.fixture(scope="module")
def bf16_twin(model):
    """`model`'s weights under mixed_bfloat16 (float32 variables, bfloat16 compute)."""
    twin = Seq2SeqLM(UniLMv2Backbone(model.backbone.config, dtype="mixed_bfloat16"), 32, 12,
                     tokenizer=model.tokenizer)
    twin.set_weights(model.get_weights())
    return twin


def test_a_mixed_precision_model_decodes_in_float32_on_its_own_weights(model, bf16_twin):
    from unilmv2_tf.generation import DECODING_POLICIES
    from unilmv2_tf.cli.generation_flags import DECODING_POLICIES as FLAG_VALUES

    def policies():
        return [layer.dtype_policy.name for layer in bf16_twin._flatten_layers()]

    texts = ["a command line tool for images", "fonts for the console"]
    before = policies()
    want, want_scores = model.generate(texts, beam_size=2, return_scores=True)
    got, got_scores = bf16_twin.generate(texts, beam_size=2, return_scores=True,
                                         dtype_policy="float32")
    assert got == want
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-6)
    # Under its own policy the search rounds to bfloat16: the float32 search is not that.
    _, own_scores = bf16_twin.generate(texts, beam_size=2, return_scores=True,
                                       dtype_policy="model")
    assert np.abs(own_scores - want_scores).max() > 1e-4
    assert policies() == before and "mixed_bfloat16" in before  # every policy is back
    # "auto": float32 where TensorFlow sees no accelerator.
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    _, auto_scores = bf16_twin.generate(texts, beam_size=2, return_scores=True)
    np.testing.assert_array_equal(auto_scores, own_scores if on_gpu else got_scores)
    # The search reads the live variables: later training is seen without a rebuild.
    bias = bf16_twin.lm_head.output_bias
    bias.assign(tf.one_hot(model.sep_id, bias.shape[0]) * 100.0)
    assert bf16_twin.generate(texts, min_length=0, dtype_policy="float32") == ["", ""]
    bias.assign(model.lm_head.output_bias)
    with pytest.raises(ValueError, match="must be one of"):
        bf16_twin.generate(texts, dtype_policy="half")
    pure = Seq2SeqLM(UniLMv2Backbone(model.backbone.config, dtype="bfloat16"), 32, 12)
    with pytest.raises(ValueError, match="needs float32 weights"):
        pure.generate([[2000]], dtype_policy="float32")
    assert FLAG_VALUES == list(DECODING_POLICIES)


def test_the_exported_search_of_a_mixed_precision_model_computes_in_float32(model,
                                                                            bf16_twin):
    from unilmv2_tf.export import GeneratorServingModule

    texts = ["a command line tool for images", "fonts for the console"]
    want, want_scores = model.generate(texts, return_scores=True)
    served = GeneratorServingModule(bf16_twin, dtype_policy="float32").generate(
        tf.constant(texts))
    assert [t.decode() for t in served["generated_text"].numpy()] == want
    np.testing.assert_allclose(served["scores"], want_scores, atol=1e-5)


def test_special_ids_come_from_the_tokenizer():
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "tool", "for", "images"]
    own = WordPieceTokenizer(vocabulary)
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=len(vocabulary),
                                         max_position_embeddings=32)
    model = Seq2SeqLM(backbone, 16, 8, tokenizer=own)
    assert (model.cls_id, model.sep_id, model.mask_id, model.pad_id) == (2, 3, 4, 0)
    packed = model.packer().pack_source(own.tokenize(["a tool"]))
    assert packed["token_ids"].numpy()[0, :4].tolist() == [2, 5, 6, 3]
    assert isinstance(model.generate(["a tool for images"])[0], str)
    with pytest.raises(ValueError, match="cls_id=101 but the tokenizer's is 2"):
        Seq2SeqLM(backbone, 16, 8, tokenizer=own, cls_id=101)
    assert Seq2SeqLM(backbone, 16, 8).cls_id == 101  # no tokenizer: BERT uncased's


def test_fine_tune_on_real_pairs_lowers_validation_loss_and_round_trips(model, tokenizer,
                                                                        tmp_path):
    from unilmv2_tf.training import create_optimizer

    train = read_jsonl_records(TRAIN, ["source", "target"])
    valid = read_jsonl_records(VALID, ["source", "target"])
    data = make_seq2seq_dataset(train, tokenizer, model.packer(), batch_size=16, seed=0)
    held_out = make_seq2seq_dataset(valid, tokenizer, model.packer(target_mask_prob=0.0), 16,
                                    shuffle=False, repeat=False, drop_remainder=False)
    model.compile(optimizer=create_optimizer(2e-3, 60, 5))
    before = model.evaluate(held_out, verbose=0, return_dict=True)
    model.fit(data, steps_per_epoch=60, epochs=1, verbose=0)
    after = model.evaluate(held_out, verbose=0, return_dict=True)
    assert after["nll"] < before["nll"] - 1.0, (before, after)

    model.save(tmp_path / "seq2seq.keras")
    (tmp_path / "vocab.txt").write_text("\n".join(tokenizer.vocabulary) + "\n")
    loaded = Seq2SeqLM.load(str(tmp_path))
    texts = [r["source"] for r in valid[:3]]
    assert loaded.generate(texts, beam_size=3) == model.generate(texts, beam_size=3)
    with pytest.raises(FileNotFoundError, match="seq2seq.keras"):
        Seq2SeqLM.load(str(tmp_path / "missing"))


@pytest.mark.parametrize("line, message", [
    ('{"source": "a b"', "malformed JSON"),
    ('["a", "b"]', "expected a JSON object"),
    ('{"source": "a b"}', "missing field 'target'"),
    ('{"source": "a b", "target": "  "}', "field 'target' is empty"),
    ('{"source": "", "target": "c"}', "field 'source' is empty"),
    ('{"source": 3, "target": "c"}', "field 'source' must be a string"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"source": "ok", "target": "fine"}\n\n' + line + "\n")
    with pytest.raises(ValueError, match=f"pairs.jsonl:3: {message}"):
        read_jsonl_records(str(path), ["source", "target"])


def test_jsonl_invalid_utf8_and_empty_file(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"source": "\xff", "target": "x"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: line is not valid UTF-8"):
        read_jsonl_records(str(path), ["source", "target"])
    path.write_text("\n")
    with pytest.raises(ValueError, match="no records"):
        read_jsonl_records(str(path), ["source"])


def test_generation_metrics_on_known_cases():
    scores = rouge_scores(["the cat sat on the mat", "a b"], ["the cat sat", "c d"])
    # Pair 1: unigram P = 3/6, R = 3/3 -> F 2/3; pair 2 shares nothing.
    assert scores["rouge1"] == pytest.approx(100 * (2 / 3) / 2)
    assert scores["rouge2"] == pytest.approx(100 * (2 * (2 / 5) * 1 / (2 / 5 + 1)) / 2)
    assert bleu4(["a b c d e"], ["a b c d e"]) == pytest.approx(100.0)
    assert bleu4(["a b c x y"], ["a b c d e"]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        rouge_scores(["a", "b"], ["a"])
    # Plain Python floats (not numpy scalars), so the metrics file holds exactly these values.
    assert {type(value) for value in scores.values()} == {float}
    assert json.loads(json.dumps(scores)) == scores
