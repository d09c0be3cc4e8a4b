"""`unilmv2 finetune-seq2seq`: s2s fine-tuning with pseudo masks from JSON Lines pairs."""

from absl import flags

from unilmv2_tf.cli.command_runner import fail, prepare_model_dir, run_command
from unilmv2_tf.cli.finetune_flags import (FINETUNE_FLAGS, apply_lora, check_finetune_flags,
                                           define_finetune_flags, finetune_optimizer)
from unilmv2_tf.cli.model_start import start_backbone, vocabulary_file
from unilmv2_tf.cli.training_flags import jit_compile, training_setup

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("train_file", None, "JSON Lines with `source` and `target` strings.")
    flags.DEFINE_string("valid_file", None, "Held-out JSON Lines, evaluated at every checkpoint.")
    flags.DEFINE_string("source_key", "source", "Field holding the input text.")
    flags.DEFINE_string("target_key", "target", "Field holding the output text.")
    flags.DEFINE_integer("max_train_examples", 0, "Use only the first N training pairs (0 = all).")
    flags.DEFINE_integer("max_valid_examples", 500,
                         "Use only the first N held-out pairs (0 = all).")
    flags.DEFINE_integer("max_source_length", 128,
                         "Source slots incl. [CLS]/[SEP] (paper: 464-720).")
    flags.DEFINE_integer("max_target_length", 32, "Target slots incl. the final [SEP] (paper: 48).")
    flags.DEFINE_float("label_smoothing", 0.1, "Label smoothing of the loss.")
    flags.DEFINE_float("target_mask_prob", 0.5, "Word drop of teacher-forced target tokens.")
    define_finetune_flags("a keras-hub preset, seq2seq.keras", 7e-5,
                          "Peak learning rate (paper: 7e-5 summarization, 2e-5 QG; from "
                          "scratch use ~1e-3).", warmup_ratio=0.02)
    flags.mark_flag_as_required("train_file")


_OWN_FLAGS = ("train_file", "valid_file", "source_key", "target_key", "max_train_examples",
              "max_valid_examples", "max_source_length", "max_target_length",
              "label_smoothing", "target_mask_prob") + FINETUNE_FLAGS


def main(argv):
    check_finetune_flags("finetune-seq2seq")
    if FLAGS.max_source_length < 3 or FLAGS.max_target_length < 2:
        fail("finetune-seq2seq", "--max_source_length must be >= 3 and --max_target_length "
             ">= 2.")
    if not 0.0 <= FLAGS.target_mask_prob <= 1.0:
        fail("finetune-seq2seq", f"--target_mask_prob must be in [0, 1], got "
             f"{FLAGS.target_mask_prob}.")
    run_command("finetune-seq2seq", argv, run)


def run():
    from unilmv2_tf.data import make_seq2seq_dataset, read_jsonl_records
    from unilmv2_tf.models import Seq2SeqLM
    from unilmv2_tf.preprocessing import (UniLMv2Seq2SeqLMPreprocessor, UniLMv2Tokenizer,
                                          WordPieceTokenizer)
    from unilmv2_tf.training import resumable_fit

    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy, model_dir, _ = training_setup()
    fields = [FLAGS.source_key, FLAGS.target_key]
    train = read_jsonl_records(FLAGS.train_file, fields, FLAGS.max_train_examples or None)
    valid = (read_jsonl_records(FLAGS.valid_file, fields, FLAGS.max_valid_examples or None)
             if FLAGS.valid_file else None)
    vocab_file = vocabulary_file()
    tokenizer = WordPieceTokenizer(vocab_file)
    with strategy.scope():
        backbone, head_weights = start_backbone(tokenizer)
        backbone = apply_lora(backbone.with_max_positions(FLAGS.max_source_length
                                                          + FLAGS.max_target_length))
        model = Seq2SeqLM(backbone, FLAGS.max_source_length, FLAGS.max_target_length,
                          label_smoothing=FLAGS.label_smoothing, tokenizer=tokenizer)
        if head_weights is not None:
            model.lm_head.set_weights(head_weights)
        model.compile(optimizer=finetune_optimizer(), jit_compile=jit_compile())
    folder = prepare_model_dir(model_dir, backbone, vocab_file, _OWN_FLAGS)

    packer = model.packer(target_mask_prob=FLAGS.target_mask_prob)
    train_data = make_seq2seq_dataset(train, tokenizer, packer, FLAGS.batch_size,
                                      seed=FLAGS.seed, source_key=FLAGS.source_key,
                                      target_key=FLAGS.target_key)
    valid_data = None
    if valid:
        # Held-out loss is measured without word drop: the decoder never sees dropped words.
        valid_data = make_seq2seq_dataset(
            valid, tokenizer, model.packer(target_mask_prob=0.0), FLAGS.batch_size, seed=1234,
            shuffle=False, repeat=False, source_key=FLAGS.source_key,
            target_key=FLAGS.target_key, drop_remainder=False)
    _, seconds = resumable_fit(model, train_data, model_dir, FLAGS.train_steps,
                               FLAGS.checkpoint_every, FLAGS.keep_checkpoints,
                               validation_data=valid_data)
    path = folder.file(folder.SEQ2SEQ_MODEL)
    model.save(path)
    folder.save_preset(model, UniLMv2Seq2SeqLMPreprocessor(
        UniLMv2Tokenizer(vocab_file), FLAGS.max_source_length, FLAGS.max_target_length,
        target_mask_prob=FLAGS.target_mask_prob))
    print(f"\nTrained to step {int(model.optimizer.iterations.numpy())} in "
          f"{seconds:.0f} s.\n  model: {path}\n  keras-hub preset: {model_dir} "
          f"(unilmv2_tf.models.Seq2SeqLM.from_preset)\n"
          f"  decode: unilmv2 decode --model_dir={model_dir} --input_file=... --output_file=...")
