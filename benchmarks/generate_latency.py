"""What one `Seq2SeqLM.generate` call on one source waits for, with and without XLA.

    python benchmarks/generate_latency.py [--preset=small --target_length=64 --repeats=3]

A user decoding sources one at a time meets new source widths (`generate` trims each batch to
its longest source, rounded up to 16 slots): with `jit_compile=True` each new width is an XLA
compilation, without it one trace serves every width. For greedy and beam 4, each with
`jit_compile` False and True, this times the first call at each of four widths (sources of
14, 46, 78 and 126 word pieces from the test fixture: 16, 48, 80 and 128 slots, in that order,
so only the first includes the trace) and then the median of `--repeats` further calls at each
width, on the preset with random weights (seed 0). EOS is held back, so every call generates
`--target_length` tokens. From those, the calls at one width after which the compilation has
paid for itself. Prints a table and writes JSON with the load average.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
from machine_peak import load_average  # noqa: E402
import tensorflow as tf  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, assets  # noqa: E402
from unilmv2_tf.data import read_jsonl_records  # noqa: E402
from unilmv2_tf.models import Seq2SeqLM  # noqa: E402
from unilmv2_tf.models.seq2seq_lm import source_width  # noqa: E402
from unilmv2_tf.preprocessing import WordPieceTokenizer  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                       "synopsis_valid.jsonl")
PIECES = (14, 46, 78, 126)
SOURCE_LENGTH = 128


def timed(call):
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--target_length", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/generate_latency.json")
    args = parser.parse_args()
    if args.repeats < 1 or args.target_length < 2:
        parser.error("--repeats must be >= 1 and --target_length >= 2.")

    tokenizer = WordPieceTokenizer(assets.BERT_UNCASED_VOCAB)
    texts = [r["source"] for r in read_jsonl_records(FIXTURE, ["source"])]
    longest = max(tokenizer.tokenize(texts).to_list(), key=len)
    if len(longest) < PIECES[-1]:
        raise ValueError(f"No fixture source has {PIECES[-1]} word pieces.")
    tf.keras.utils.set_random_seed(0)
    backbone = UniLMv2Backbone.from_size(args.preset).with_max_positions(
        SOURCE_LENGTH + args.target_length)
    model = Seq2SeqLM(backbone, SOURCE_LENGTH, args.target_length, tokenizer=tokenizer)
    options = {"min_length": args.target_length, "ngram_size": 0}
    searches = {"greedy": 1, "beam4": 4}
    for beam_size in searches.values():  # Keras builds and autograph conversions, once
        for jit in (False, True):
            model.generate([longest[:2]], beam_size=beam_size, max_length=2, jit_compile=jit)
    loads, rows = [load_average()], []
    print(f"{args.preset} preset, {args.target_length} target tokens, one source a call, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'search':<7} {'jit':<5} {'pieces':>6} {'slots':>5} {'first call s':>13} "
          f"{'later calls ms':>15}")
    for search, beam_size in searches.items():
        for jit in (False, True):
            def call(pieces, beam_size=beam_size, jit=jit):
                model.generate([longest[:pieces]], beam_size=beam_size, jit_compile=jit,
                               **options)

            firsts = [timed(lambda n=n: call(n)) for n in PIECES]
            for pieces, first in zip(PIECES, firsts):
                later = statistics.median(timed(lambda: call(pieces))
                                          for _ in range(args.repeats))
                row = {"search": search, "jit_compile": jit, "source_pieces": pieces,
                       "source_slots": source_width([pieces + 2], SOURCE_LENGTH),
                       "first_call_s": first,
                       "later_call_ms": 1000 * later}
                rows.append(row)
                print(f"{search:<7} {str(jit):<5} {pieces:>6} {row['source_slots']:>5} "
                      f"{first:>13.2f} {row['later_call_ms']:>15.0f}", flush=True)
    loads.append(load_average())

    def row(search, jit, pieces):
        return next(r for r in rows if (r["search"], r["jit_compile"], r["source_pieces"])
                    == (search, jit, pieces))

    break_even = {}
    print("\nCalls at one new width after which XLA has paid for its compilation:")
    for search in searches:
        for pieces in PIECES[1:]:  # the first width also pays both traces
            plain, xla = row(search, False, pieces), row(search, True, pieces)
            saved = (plain["later_call_ms"] - xla["later_call_ms"]) / 1000
            extra = xla["first_call_s"] - plain["first_call_s"]
            calls = extra / saved if saved > 0 else None
            break_even[f"{search} {pieces} pieces"] = calls
            print(f"  {search} at {pieces} pieces: "
                  + (f"{calls:.1f}" if calls is not None else "never (XLA not faster)"))
    print(f"load average {loads[0]['load_average_1m']} -> {loads[1]['load_average_1m']}")
    write_report(args.output, {"preset": args.preset, "target_length": args.target_length,
                               "source_length": SOURCE_LENGTH, "repeats": args.repeats,
                               "load": loads, "rows": rows, "break_even_calls": break_even})


if __name__ == "__main__":
    main()
