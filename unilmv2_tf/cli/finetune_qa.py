"""`unilmv2 finetune-qa`: extractive QA (SQuAD v1.1 / v2.0) with `SpanQA`."""

import json

from absl import flags

from unilmv2_tf.cli.command_runner import prepare_model_dir, run_command
from unilmv2_tf.cli.finetune_flags import (FINETUNE_FLAGS, apply_lora, check_finetune_flags,
                                           define_finetune_flags, finetune_optimizer)
from unilmv2_tf.cli.model_start import start_backbone, vocabulary_file
from unilmv2_tf.cli.training_flags import jit_compile, training_setup

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("train_file", None, "SQuAD-format JSON (v1.1 or v2.0).")
    flags.DEFINE_string("dev_file", None, "SQuAD-format JSON scored (EM / F1) after training.")
    flags.DEFINE_bool("version_2_with_negative", False, "SQuAD 2.0: answer '' when the "
                      "answerability head says no.")
    flags.DEFINE_integer("sequence_length", 256, "Window length (paper: 384 for base).")
    flags.DEFINE_integer("doc_stride", 128, "Tokens between window starts.")
    flags.DEFINE_integer("max_query_length", 64, "Question pieces kept.")
    flags.DEFINE_integer("max_answer_length", 30, "Longest answer in tokens.")
    define_finetune_flags("a keras-hub preset, spanqa.keras, qa.json, dev "
                          "predictions and metrics", 3e-5,
                          "Peak learning rate (paper: 2e-5 to 4e-5 for a pretrained base model; "
                          "from scratch use ~1e-3).", warmup_ratio=0.1)
    flags.mark_flag_as_required("train_file")


_OWN_FLAGS = ("train_file", "dev_file", "version_2_with_negative", "sequence_length",
              "doc_stride", "max_query_length", "max_answer_length") + FINETUNE_FLAGS


def main(argv):
    check_finetune_flags("finetune-qa", ("doc_stride", "max_answer_length"))
    run_command("finetune-qa", argv, run)


def run():
    import numpy as np
    import tensorflow as tf

    from unilmv2_tf.data import read_squad_examples
    from unilmv2_tf.metrics import squad_scores
    from unilmv2_tf.models import SpanQA
    from unilmv2_tf.preprocessing import (QAWindower, UniLMv2SpanQAPreprocessor, UniLMv2Tokenizer,
                                          WordPieceTokenizer)
    from unilmv2_tf.training import resumable_fit

    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy, model_dir, _ = training_setup()
    train = read_squad_examples(FLAGS.train_file)
    dev = read_squad_examples(FLAGS.dev_file) if FLAGS.dev_file else None
    vocab_file = vocabulary_file()
    tokenizer = WordPieceTokenizer(vocab_file)
    windower = QAWindower(tokenizer, FLAGS.sequence_length, FLAGS.doc_stride,
                          FLAGS.max_query_length)
    with strategy.scope():
        backbone = apply_lora(start_backbone(tokenizer)[0])
        if FLAGS.sequence_length > backbone.config.max_position_embeddings:
            raise ValueError(f"--sequence_length {FLAGS.sequence_length} exceeds the model's "
                             f"{backbone.config.max_position_embeddings} positions.")
        model = SpanQA(backbone)
        model.compile(optimizer=finetune_optimizer(), jit_compile=jit_compile())
    folder = prepare_model_dir(model_dir, backbone, vocab_file, _OWN_FLAGS)

    features, _ = windower.windows(train, training=True)
    inputs = {k: features[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    targets = {k: features[k] for k in ("start_positions", "end_positions", "answerable")}
    print(f"{len(train)} training questions -> {len(features['token_ids'])} windows "
          f"({int(features['answerable'].sum())} holding their answer).")
    data = (tf.data.Dataset.from_tensor_slices((inputs, targets))
            .shuffle(len(features["token_ids"]), seed=FLAGS.seed).repeat()
            .batch(FLAGS.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    _, seconds = resumable_fit(model, data, model_dir, FLAGS.train_steps,
                               FLAGS.checkpoint_every, FLAGS.keep_checkpoints)
    model.save(folder.file(folder.SPAN_QA_MODEL))
    settings = {"sequence_length": FLAGS.sequence_length, "doc_stride": FLAGS.doc_stride,
                "max_query_length": FLAGS.max_query_length,
                "max_answer_length": FLAGS.max_answer_length,
                "version_2_with_negative": FLAGS.version_2_with_negative}
    folder.write_json(folder.QA_SETTINGS, settings)
    folder.save_preset(model, UniLMv2SpanQAPreprocessor(
        UniLMv2Tokenizer(vocab_file), FLAGS.sequence_length, FLAGS.max_query_length))
    print(f"\nTrained to step {int(model.optimizer.iterations.numpy())} in {seconds:.0f} s.\n"
          f"  model: {folder.file(folder.SPAN_QA_MODEL)}\n  keras-hub preset: {model_dir} "
          f"(unilmv2_tf.models.SpanQA.from_preset)")
    if dev:
        dev_features, dev_windows = windower.windows(dev)
        dev_inputs = {k: dev_features[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        outputs = {k: np.concatenate(v) for k, v in zip(
            ("start_logits", "end_logits", "answerable_logits"), zip(*(
                (o["start_logits"].numpy(), o["end_logits"].numpy(),
                 o["answerable_logits"].numpy())
                for o in (model(batch) for batch in tf.data.Dataset.from_tensor_slices(
                    dev_inputs).batch(64)))))}
        answers = QAWindower.best_answers(dev, dev_windows, outputs, FLAGS.max_answer_length,
                                          allow_no_answer=FLAGS.version_2_with_negative)
        scores = squad_scores({k: a["text"] for k, a in answers.items()}, dev)
        for name, value in ((folder.DEV_PREDICTIONS, answers), (folder.DEV_METRICS, scores)):
            with open(folder.file(name), "w", encoding="utf-8") as f:
                json.dump(value, f, indent=2, ensure_ascii=False)
        print(f"  dev: exact_match {scores['exact_match']:.2f}  f1 {scores['f1']:.2f} "
              f"({scores['examples']} questions)")
