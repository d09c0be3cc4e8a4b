"""Decoding speed: key/value cache vs full recompute vs s2s-ft's hidden-state cache.

    python benchmarks/decode.py [--preset=small --source_length=128 --target_length=64
                                 --source_pieces=40]

Greedy and beam 4, batch 1 and batch 16, each with and without `jit_compile`, side by side in
one process on the same model (random weights of the preset; speed does not depend on them)
and the same real sources: Debian descriptions from the test fixture with at least
`--source_pieces` word pieces (default `source_length - 2`, what fills the source), each cut to
exactly that many (`--source_pieces=40` for short sources). As `Seq2SeqLM.generate` does, each
batch decodes over its longest source rounded up to 16 slots (`source_width`). EOS is held
back (`min_length = target_length`), so every run generates exactly `target_length` tokens.
Each row also gives the model arithmetic it did per second (`decoding_flops`) and that as a
fraction of the machine's float32 matmul peak, and the weights it read per second
(`decoding_weight_bytes`: every weight once a step) as a fraction of the memory read bandwidth
(`measure_read_bandwidth`), the roof for a few rows; both measured in the same run before and
after the timed part, with the load average. `--vocab_size=1024` times the same model with a small
vocabulary, to separate the encoder's share of a step from the 30,522-word output layer's;
`--ngram_size=3` blocks repeated trigrams as `generate` does by default (off here otherwise).

- cached: `KVCacheDecoder` (keys/values of every layer; each step feeds 2 tokens);
- recompute: `RecomputeDecoder` (the whole sequence re-encoded every step);
- s2s-ft: `HiddenStateCacheDecoder` below, what s2s-ft's `BertForSeq2SeqDecoder` does: it
  keeps every layer's *input hidden states* and re-projects keys/values of the whole history
  at every step (here over the fixed-size buffer, as static shapes require).

Full recompute is skipped for beam 4 x batch 16 (64 rows re-encoded through every layer at
every step: minutes per run on 2 CPU cores); s2s-ft's decoder runs there too (about 15 s a
search with XLA for `small`, 126-piece sources). Prints a table and writes JSON.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
from machine_peak import (decoding_flops, decoding_weight_bytes, load_average,  # noqa: E402
                          measure_peak, measure_read_bandwidth)
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, assets  # noqa: E402
from unilmv2_tf.data import read_jsonl_records  # noqa: E402
from unilmv2_tf.generation import (KVCacheDecoder, RecomputeDecoder, beam_search,  # noqa: E402
                                   greedy_search)
from unilmv2_tf.layers import MaskedLMHead  # noqa: E402
from unilmv2_tf.models.seq2seq_lm import source_width  # noqa: E402
from unilmv2_tf.preprocessing import Seq2SeqPacker, WordPieceTokenizer  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                       "synopsis_valid.jsonl")


class HiddenStateCacheDecoder(KVCacheDecoder):
    """s2s-ft's incremental decoding: cache each layer's input states, re-project K/V."""

    def _new_memory(self, batch, slots):
        config = self.backbone.config
        # One tensor per layer, as upstream keeps a list (no slicing and restacking per step).
        return {"history": tuple(tf.zeros([batch, slots, config.hidden_size],
                                          self.backbone.compute_dtype)
                                 for _ in range(config.num_layers))}

    def _encode(self, state, token_ids, segment_ids, position_ids, mask, cache_update_index):
        backbone = self.backbone
        x = backbone.embeddings(token_ids, segment_ids, position_ids)
        bias = backbone.relative_position_bias(position_ids, state["key_positions"])
        histories = []
        for block, history in zip(backbone.transformer_layers, state["history"]):
            history = ops.slice_update(history, (0, cache_update_index, 0), x)
            histories.append(history)
            attention = block.attention
            # In the attention's cache layouts: keys [B, heads, head_size, slots], values
            # [B, heads, slots, head_size].
            cache = tuple(tf.transpose(attention._split_heads(dense(history)), perm)
                          for dense, perm in ((attention.key_dense, (0, 2, 3, 1)),
                                              (attention.value_dense, (0, 2, 1, 3))))
            x, _ = block(x, attention_mask=mask, attention_bias=bias, cache=cache,
                         cache_update_index=cache_update_index)
        return x, {"history": tuple(histories)}


def decoding_inputs(tokenizer, preset, source_length, target_length, source_pieces, sizes,
                    vocab_size=None):
    """`(backbone, head, sources)`: `preset` with random weights (seed 0) and its tied LM head,
    and for each batch size in `sizes` that many fixture sources of exactly `source_pieces`
    word pieces (cycled when the fixture has fewer), packed and trimmed to their
    `source_width` as `Seq2SeqLM.generate` does. A `vocab_size` other than the preset's takes
    the source ids modulo it (speed does not depend on which ids they are)."""
    tf.keras.utils.set_random_seed(0)
    vocabulary = {"vocab_size": vocab_size} if vocab_size else {}
    backbone = UniLMv2Backbone.from_size(preset, **vocabulary).with_max_positions(
        source_length + target_length)
    head = MaskedLMHead(backbone.token_embedding)
    head.build((None, None, backbone.config.hidden_size))
    packer = Seq2SeqPacker.for_tokenizer(tokenizer, source_length, target_length)
    texts = [r["source"] for r in read_jsonl_records(FIXTURE, ["source"])]
    pieces = [p for p in tokenizer.tokenize(texts).to_list() if len(p) >= source_pieces]
    if not pieces:
        raise ValueError(f"No fixture source has {source_pieces} word pieces.")
    pieces = tf.ragged.constant([pieces[i % len(pieces)][:source_pieces]
                                 for i in range(max(sizes))])
    sources = {}
    for size in sizes:
        packed = packer.pack_source(pieces[:size])
        width = source_width(packed["source_length"].numpy(), source_length)
        sources[size] = {k: packed[k][:, :width] for k in ("token_ids", "padding_mask")}
        sources[size]["token_ids"] %= backbone.config.vocab_size
    return backbone, head, sources


def skipped(decoder, search, batch):
    """Rows not timed: full recompute of beam 4 x 16 (minutes per run on 2 CPU cores)."""
    return decoder == "recompute" and search == "beam4" and batch == 16


def time_search(search, source, jit_compile, repeats):
    function = tf.function(search, jit_compile=jit_compile)
    started = time.perf_counter()
    function(source)["token_ids"].numpy()  # trace (and compile)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(repeats):
        function(source)["token_ids"].numpy()
    return (time.perf_counter() - started) / repeats, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--source_length", type=int, default=128)
    parser.add_argument("--target_length", type=int, default=64)
    parser.add_argument("--source_pieces", type=int, default=0,
                        help="Word pieces per source (0: source_length - 2).")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--decoders", default="cached,recompute,s2s-ft",
                        help="Comma-separated subset of the decoders to time.")
    parser.add_argument("--vocab_size", type=int, default=0,
                        help="Vocabulary of the model (0: the preset's 30,522); a small one "
                             "leaves out nearly all of the output layer's cost.")
    parser.add_argument("--ngram_size", type=int, default=0,
                        help="n-gram blocking of every search (0: off; `generate` blocks "
                             "repeated trigrams by default).")
    parser.add_argument("--peak_size", type=int, default=2048)
    parser.add_argument("--output", default="benchmarks/decode.json")
    args = parser.parse_args()

    tokenizer = WordPieceTokenizer(assets.BERT_UNCASED_VOCAB)
    args.source_pieces = args.source_pieces or args.source_length - 2
    if args.vocab_size and args.vocab_size <= max(tokenizer.mask_id, tokenizer.sep_id):
        parser.error(f"--vocab_size must exceed the [MASK] and [SEP] ids "
                     f"({tokenizer.mask_id}, {tokenizer.sep_id}), got {args.vocab_size}.")
    backbone, head, sources = decoding_inputs(tokenizer, args.preset, args.source_length,
                                              args.target_length, args.source_pieces, (1, 16),
                                              args.vocab_size)
    classes = {"cached": KVCacheDecoder, "recompute": RecomputeDecoder,
               "s2s-ft": HiddenStateCacheDecoder}
    chosen = args.decoders.split(",")
    if not chosen or set(chosen) - set(classes):
        parser.error(f"--decoders: choose from {sorted(classes)}, got {args.decoders!r}.")
    decoders = {name: classes[name](backbone, head, args.target_length, tokenizer.mask_id)
                for name in chosen}
    options = {"min_length": args.target_length, "ngram_size": args.ngram_size}
    searches = {"greedy": lambda d, s: greedy_search(d, s, tokenizer.sep_id, **options),
                "beam4": lambda d, s: beam_search(d, s, tokenizer.sep_id, beam_size=4,
                                                  **options)}
    peak_before, loads = measure_peak(args.peak_size), [load_average()]
    bandwidth = [measure_read_bandwidth()]
    weight_bytes = decoding_weight_bytes(backbone.config, args.target_length)  # any row count
    rows = []
    widths = {size: source["token_ids"].shape[1] for size, source in sources.items()}
    print(f"{args.preset} preset, {backbone.config.vocab_size:,} words, sources of "
          f"{args.source_pieces} pieces in {widths[1]} of {args.source_length} slots, "
          f"{args.target_length} target tokens, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'search':<7} {'batch':>5} {'decoder':<10} {'jit':<5} {'tokens/s':>9} "
          f"{'ms/example':>11} {'GFLOP/s':>8} {'weights GB/s':>13} {'first call s':>13}")
    for search_name, search in searches.items():
        for batch in (1, 16):
            for decoder_name, decoder in decoders.items():
                if skipped(decoder_name, search_name, batch):
                    continue
                for jit in (False, True):
                    seconds, first = time_search(lambda s, d=decoder: search(d, s),
                                                 sources[batch], jit, args.repeats)
                    width = sources[batch]["token_ids"].shape[1]
                    beams = 4 if search_name == "beam4" else 1
                    flops = decoding_flops(backbone.config, batch * beams, width,
                                           args.target_length)
                    row = {"search": search_name, "batch": batch, "decoder": decoder_name,
                           "jit_compile": jit, "source_slots": width,
                           "tokens_per_s": batch * args.target_length / seconds,
                           "ms_per_example": 1000 * seconds / batch, "first_call_s": first,
                           "gflops_per_s": flops / seconds / 1e9,
                           "weight_gb_per_s": weight_bytes / seconds / 1e9}
                    rows.append(row)
                    print(f"{search_name:<7} {batch:>5} {decoder_name:<10} {str(jit):<5} "
                          f"{row['tokens_per_s']:>9.1f} {row['ms_per_example']:>11.1f} "
                          f"{row['gflops_per_s']:>8.2f} {row['weight_gb_per_s']:>13.1f} "
                          f"{first:>13.1f}", flush=True)
    loads.append(load_average())
    peak_after = measure_peak(args.peak_size)
    bandwidth.append(measure_read_bandwidth())
    peak = max(peak_before["float32"], peak_after["float32"])
    for row in rows:
        row["fraction_of_fp32_peak"] = row["gflops_per_s"] / peak
        row["fraction_of_read_bandwidth"] = row["weight_gb_per_s"] / max(bandwidth)
    print(f"float32 matmul peak {peak_before['float32']:.0f} / {peak_after['float32']:.0f} "
          f"GFLOP/s (before / after); load average {loads[0]['load_average_1m']} -> "
          f"{loads[1]['load_average_1m']}; best row at "
          f"{max(r['fraction_of_fp32_peak'] for r in rows):.1%} of the peak")
    print(f"memory read {bandwidth[0]:.1f} / {bandwidth[1]:.1f} GB/s (before / after); weights "
          f"read at up to {max(r['fraction_of_read_bandwidth'] for r in rows):.0%} of it")

    def best(search, batch, decoder):
        return min(r["ms_per_example"] for r in rows
                   if (r["search"], r["batch"], r["decoder"]) == (search, batch, decoder))

    def default(search, batch, decoder):  # `generate`'s jit_compile="auto" is XLA
        return next(r["ms_per_example"] for r in rows if (
            r["search"], r["batch"], r["decoder"], r["jit_compile"]) == (search, batch,
                                                                         decoder, True))

    pairs = [(other, s, b) for other in ("recompute", "s2s-ft")
             if other in decoders and "cached" in decoders
             for s in searches for b in (1, 16) if not skipped(other, s, b)]
    ratios = {f"{o}/cached {s} batch {b}": best(s, b, o) / best(s, b, "cached")
              for o, s, b in pairs}
    default_ratios = {f"{o}/cached {s} batch {b}": best(s, b, o) / default(s, b, "cached")
                      for o, s, b in pairs}
    print("\nSpeed-up of the key/value cache (best of jit on/off each; against the cache with "
          "generate's default jit_compile=\"auto\"):")
    for name, value in ratios.items():
        print(f"  {name}: {value:.2f}x ({default_ratios[name]:.2f}x)")
    target = ratios.get("recompute/cached beam4 batch 1")
    if target is not None:
        print(f"Target: cached beam search >= 5x faster than full recompute at "
              f"{args.target_length} tokens: {target:.2f}x "
              f"({'met' if target >= 5 else 'NOT met'})")
    report = {"preset": args.preset, "vocab_size": backbone.config.vocab_size,
              "source_length": args.source_length,
              "source_pieces": args.source_pieces, "target_length": args.target_length,
              "ngram_size": args.ngram_size,
              "peak_before": peak_before, "peak_after": peak_after, "load": loads,
              "read_bandwidth_gb_per_s": bandwidth,
              "rows": rows, "ratios": ratios, "ratios_to_default_cached": default_ratios}
    write_report(args.output, report)


if __name__ == "__main__":
    main()
