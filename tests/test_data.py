"""Tokenizer, vocabulary, packing rule and the pretraining input pipeline, bad input included."""

import gzip

import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf import assets
from unilmv2_tf.data import make_pretraining_dataset, read_documents
from unilmv2_tf.preprocessing import (PMLMMasker, SegmentPairPacker, WordPieceTokenizer,
                                      build_vocabulary, load_vocabulary)


def test_bundled_vocabulary_ids(tokenizer):
    assert tokenizer.vocabulary_size == 30522
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id,
            tokenizer.mask_id) == (0, 100, 101, 102, 103)
    ids = tokenizer.tokenize(["Hello, Ünïcode world!"]).to_list()[0]
    assert ids[0] == 7592 and tokenizer.vocabulary[ids[1]] == ","
    assert tokenizer.detokenize([[101] + ids + [102, 0]]).numpy()[0] == b"hello , unicode world !"


def test_tokenizer_runs_inside_tf_function(tokenizer):
    fn = tf.function(lambda t: tokenizer.tokenize(t).to_tensor(),
                     input_signature=[tf.TensorSpec([None], tf.string)])
    assert fn(tf.constant(["a b", ""])).shape[0] == 2


@pytest.mark.parametrize("tokens, message", [
    (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"], r"lacks the special tokens \['\[MASK\]'\]"),
    (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "a"], "appears twice"),
    ([], "is empty"),
])
def test_bad_vocabularies(tokens, message, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(tokens) + ("\n" if tokens else ""), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        WordPieceTokenizer(str(path))
    with pytest.raises(FileNotFoundError, match="Vocabulary file not found"):
        load_vocabulary(str(tmp_path / "missing.txt"))


def test_build_vocabulary_round_trip(tmp_path):
    out = tmp_path / "vocab.txt"
    tokens = build_vocabulary([assets.DEFAULT_CORPUS], 400, str(out), max_lines=150)
    assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert 300 < len(tokens) <= 400
    tokenizer = WordPieceTokenizer(str(out))
    ids = tokenizer.tokenize(["call me ishmael"]).to_list()[0]
    assert tokenizer.unk_id not in ids


def make_packer(length, tokenizer):
    return SegmentPairPacker(length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id,
                             tokenizer.continuation_mask())


def test_packing_rule(tokenizer):
    packer = make_packer(16, tokenizer)
    paragraphs = tokenizer.tokenize(["the whale swam far away from the ship today",
                                     "call me ishmael", "the sea"])
    chunks, starts = packer.split_document(paragraphs)
    flat = paragraphs.flat_values.numpy()
    assert chunks.row_lengths().numpy().tolist() == [13, len(flat) - 13]
    np.testing.assert_array_equal(chunks.flat_values, flat)
    # Chunk 2 holds paragraph starts ("call", "the"): S2 must begin at one of them.
    for seed in range(10):
        x = packer.pack(chunks[1], starts[1], seed=[seed, 0])
        ids, segments = x["token_ids"].numpy(), x["segment_ids"].numpy()
        first_s2 = ids[np.argmax(segments)]
        assert tokenizer.vocabulary[first_s2] in ("call", "the")
        assert ids[0] == tokenizer.cls_id and (ids == tokenizer.sep_id).sum() == 2
        assert x["padding_mask"].numpy().sum() == chunks[1].shape[0] + 3
    # Without paragraph starts the split is never inside a word.
    one = tokenizer.tokenize(["unaffable tokenization unbelievably"])
    c, s = make_packer(32, tokenizer).split_document(one)
    continuation = tokenizer.continuation_mask().numpy()
    for seed in range(10):
        x = make_packer(32, tokenizer).pack(c[0], s[0], seed=[seed, 1])
        ids, segments = x["token_ids"].numpy(), x["segment_ids"].numpy()
        assert not continuation[ids[np.argmax(segments)]]


def test_too_small_sequence_length(tokenizer):
    with pytest.raises(ValueError, match="sequence_length must be at least 5"):
        make_packer(4, tokenizer)


def masker_for(tokenizer, length):
    return PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(length))


def test_pipeline_on_real_text_is_reproducible_and_static(tokenizer):
    masker = masker_for(tokenizer, 32)
    make = lambda seed: make_pretraining_dataset(  # noqa: E731
        [assets.DEFAULT_CORPUS], tokenizer, masker, 32, 4, seed=seed, shuffle_buffer=20)
    a, b, c = (next(iter(make(seed))) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a["token_ids"], b["token_ids"])
    assert (a["token_ids"].numpy() != c["token_ids"].numpy()).any()
    budget = masker.max_predictions
    assert make(3).element_spec["token_ids"].shape.as_list() == [4, 32 + 2 * budget]


def test_sharding_by_worker(tokenizer, tmp_path):
    paths = []
    for i in range(2):
        path = tmp_path / f"part{i}.txt"
        path.write_text(f"document {i} says hello.\n\nanother {i} document.\n", encoding="utf-8")
        paths.append(str(path))
    masker = masker_for(tokenizer, 16)
    seen = []
    for worker in range(2):
        ds = make_pretraining_dataset(paths, tokenizer, masker, 16, 1, shuffle=False,
                                      repeat=False, num_input_pipelines=2,
                                      input_pipeline_id=worker)
        seen.append({int(x["labels"].numpy().sum() + x["token_ids"].numpy().sum()) for x in ds})
    assert seen[0] and seen[1] and not seen[0] & seen[1]


def test_documents_and_gzip(tmp_path):
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("a  b\nc\n\n\nd\n")
    assert list(read_documents(str(path))) == [["a b", "c"], ["d"]]


def test_bad_files(tokenizer, tmp_path):
    masker = masker_for(tokenizer, 16)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.txt is empty"):
        make_pretraining_dataset([str(empty)], tokenizer, masker, 16, 2)
    with pytest.raises(FileNotFoundError, match="Corpus file not found"):
        make_pretraining_dataset([str(tmp_path / "nope.txt")], tokenizer, masker, 16, 2)
    with pytest.raises(ValueError, match="No training files"):
        make_pretraining_dataset([], tokenizer, masker, 16, 2)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nsecond line\n\nbroken \xff\xfe line\n")
    with pytest.raises(ValueError, match=r"bad\.txt:4: line is not valid UTF-8"):
        list(read_documents(str(bad)))
    ds = make_pretraining_dataset([str(bad)], tokenizer, masker, 16, 1, shuffle=False,
                                  repeat=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"bad\.txt:4"):
        list(ds)
