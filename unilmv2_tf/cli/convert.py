"""`unilmv2 convert`: PyTorch UniLMv2 / s2s-ft / BERT checkpoints to Keras, and back."""

import json
import os
import shutil

from absl import flags

from unilmv2_tf.cli.command_runner import run_command

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_enum("from", None, ["unilm", "s2s-ft", "bert", "keras"],
                      "Checkpoint layout: unilm (released unilm2-*.bin, fast QKV), s2s-ft "
                      "(fine-tuned ckpt-N/pytorch_model.bin), bert (HF BERT / MiniLM), or keras "
                      "(a `unilmv2` model_dir or backbone .keras, written back as safetensors).")
    flags.DEFINE_string("checkpoint", None, ".bin / .pt (needs torch) or .safetensors; for "
                        "--from=keras a model_dir or a backbone .keras file.")
    flags.DEFINE_string("config", None, "The checkpoint's config JSON (heads, max_rel_pos, "
                        "layer_norm_eps, ...); required except for --from=keras.")
    flags.DEFINE_string("vocab_file", None, "Vocabulary to copy next to the converted model.")
    flags.DEFINE_string("output", None, "Output folder (must not exist yet).")
    flags.mark_flags_as_required(["from", "checkpoint", "output"])


def main(argv):
    run_command("convert", argv, run)


def _prepare_output():
    if os.path.exists(FLAGS.output):
        raise FileExistsError(f"--output {FLAGS.output} exists; choose a new folder (nothing "
                              f"is overwritten).")
    temporary = f"{FLAGS.output}.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    os.makedirs(temporary)
    return temporary


def run():
    source = FLAGS["from"].value
    if source == "keras":
        to_pytorch()
        return
    import tensorflow as tf

    from unilmv2_tf.convert import convert_checkpoint, read_state_dict
    from unilmv2_tf.model_folder import ModelFolder
    from unilmv2_tf.preprocessing import UniLMv2Tokenizer

    if not FLAGS.config:
        raise ValueError("--config is required: the checkpoint's config JSON gives what the "
                         "tensor shapes cannot (heads, max_rel_pos, layer_norm_eps).")
    try:
        with open(FLAGS.config, encoding="utf-8") as f:
            config_json = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read --config {FLAGS.config}: {e}") from None
    converted = convert_checkpoint(read_state_dict(FLAGS.checkpoint), source, config_json)
    folder = ModelFolder(_prepare_output())
    converted.backbone.save(folder.file(folder.BACKBONE_MODEL))
    if converted.pretrainer is not None:  # the LM head too, as `unilmv2 pretrain` writes it
        manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=converted.pretrainer),
                                             folder.file(folder.CHECKPOINTS), 1)
        manager.save(checkpoint_number=0)
    tokenizer = None
    if FLAGS.vocab_file:
        shutil.copyfile(FLAGS.vocab_file, folder.file(folder.VOCABULARY))
        tokenizer = UniLMv2Tokenizer(FLAGS.vocab_file)
    folder.save_preset(converted.backbone, tokenizer=tokenizer)
    report = {**converted.report, "checkpoint": FLAGS.checkpoint, "config_file": FLAGS.config}
    folder.write_json(folder.CONVERSION_REPORT, report)
    os.replace(folder.path, FLAGS.output)
    print(f"Converted {report['mapped']} tensors ({len(report['ignored'])} ignored: "
          f"{', '.join(report['ignored']) or 'none'}); LM head: {report['lm_head']}.\n"
          f"  {FLAGS.output}/backbone.keras, config.json, conversion_report.json (the folder "
          f"is a keras-hub preset)")


def to_pytorch():
    from unilmv2_tf.convert import backbone_to_state_dict, write_safetensors
    from unilmv2_tf.model_folder import ModelFolder
    from unilmv2_tf.models import PMLMPretrainer, Seq2SeqLM, load_pretrained

    if ModelFolder(FLAGS.checkpoint).has(ModelFolder.SEQ2SEQ_MODEL):
        model = Seq2SeqLM.load(FLAGS.checkpoint)
        backbone, lm_head = model.backbone, model.lm_head
    else:
        backbone, head_weights = load_pretrained(FLAGS.checkpoint)
        lm_head = None
        if head_weights is not None:
            lm_head = PMLMPretrainer(backbone).lm_head
            lm_head.set_weights(head_weights)
    config = backbone.config
    temporary = _prepare_output()
    write_safetensors(backbone_to_state_dict(backbone, lm_head),
                      os.path.join(temporary, "model.safetensors"))
    hf_config = {"architectures": ["BertForMaskedLM"], "model_type": "bert",
                 "vocab_size": config.vocab_size, "hidden_size": config.hidden_size,
                 "num_hidden_layers": config.num_layers,
                 "num_attention_heads": config.num_heads,
                 "intermediate_size": config.intermediate_size, "hidden_act": "gelu",
                 "max_position_embeddings": config.max_position_embeddings,
                 "type_vocab_size": config.type_vocab_size,
                 "layer_norm_eps": config.layer_norm_epsilon,
                 "hidden_dropout_prob": config.hidden_dropout,
                 "attention_probs_dropout_prob": config.attention_dropout}
    if config.use_relative_position_bias:
        hf_config.update(rel_pos_bins=config.relative_position_buckets,
                         max_rel_pos=config.max_relative_distance)
    with open(os.path.join(temporary, "config.json"), "w", encoding="utf-8") as f:
        json.dump(hf_config, f, indent=2)
    os.replace(temporary, FLAGS.output)
    print(f"Wrote {FLAGS.output}/model.safetensors and config.json (LM head: "
          f"{lm_head is not None}).")
