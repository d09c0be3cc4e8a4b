#!/usr/bin/env bash
# The GPU check, prepared to run as one command on a lent GPU machine (at most ~8 minutes):
#   1. the GPU-relevant tests: MirroredStrategy over the visible GPUs, mixed precision, XLA
#      training and XLA decoding;
#   2. a mixed_bfloat16 PMLM training step at `base` and `large` (8 x 512 and 4 x 512), with
#      model GFLOP/s as a fraction of the GPU's nominal dense bf16 peak (from its nvidia-smi
#      name) and of a measured 8192^2 bf16 matmul;
#   3. decoding throughput (`small` preset, greedy and beam 4, batch 1 and 16, with and
#      without XLA).
# Results: benchmarks/device_check/*.json and summary.json; the log beside them.
# Usage: benchmarks/device_check.sh            (from the repository root, after `make setup`)
#        DEVICE_CHECK_SMOKE=1 benchmarks/device_check.sh   (a tiny CPU dry run of the same steps)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT_DIR:-benchmarks/device_check}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export TF_CPP_MIN_LOG_LEVEL=2
status=0

if [[ -n "${DEVICE_CHECK_SMOKE:-}" ]]; then
  GPU_NAME="none (smoke run on CPU)"
  SIZES=(tiny:4:32); DECODE=(--preset=tiny --source_length=32 --target_length=8); PEAK_SIZE=512
  TESTS=(tests/test_backbone.py::test_mixed_precision_policy_keeps_float32_variables)
  STEP_LIMIT=600
else
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  SIZES=(base:8:512 large:4:512); DECODE=(--preset=small); PEAK_SIZE=8192
  TESTS=(tests/test_distribution.py::test_mirrored_strategy_matches_one_device_on_the_same_global_batch
         tests/test_distribution.py::test_mixed_precision_trains_without_nans
         tests/test_distribution.py::test_static_shapes_and_xla_training_step
         tests/test_distribution.py::test_jit_compile_over_several_replicas_is_refused_up_front
         tests/test_backbone.py::test_mixed_precision_policy_keeps_float32_variables
         tests/test_generation.py::test_search_compiles_with_xla)
  STEP_LIMIT=120
fi
echo "== device: $GPU_NAME"
nvidia-smi 2>/dev/null | head -15

echo "== 1. GPU-relevant tests"
timeout 150 "$PY" -m pytest -q "${TESTS[@]}" -p no:cacheprovider | tee "$OUT/tests.txt"
tests_rc=${PIPESTATUS[0]}; [[ $tests_rc == 0 ]] || status=1

echo "== 2. bf16 PMLM steps"
for size in "${SIZES[@]}"; do
  IFS=: read -r preset batch length <<< "$size"
  timeout "$STEP_LIMIT" "$PY" benchmarks/pretrain_step.py --preset="$preset" --batch_size="$batch" \
    --sequence_length="$length" --dtype_policy=mixed_bfloat16 --skip_naive --steps=5 \
    --warmup=2 --peak_size="$PEAK_SIZE" --output="$OUT/pretrain_step_$preset.json" \
    || { echo "pretrain_step.py --preset=$preset failed or ran past ${STEP_LIMIT} s"; status=1; }
done

echo "== 3. decoding"
timeout $((STEP_LIMIT * 3 / 2)) "$PY" benchmarks/decode.py "${DECODE[@]}" --output="$OUT/decode.json" \
  || { echo "decode.py failed or ran past its limit"; status=1; }

GPU_NAME="$GPU_NAME" TESTS_RC=$tests_rc "$PY" - "$OUT" <<'EOF'
"""summary.json: each step's fraction of the GPU's nominal dense bf16 peak."""
import glob, json, os, sys

# Dense (no sparsity) bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s.
NOMINAL_BF16_TFLOPS = {"H200": 989, "H100 SXM": 989, "H100 PCIe": 756, "H100": 756,
                       "A100": 312, "L40S": 362, "L4": 121, "A10": 125, "V100": 125}
out, name = sys.argv[1], os.environ["GPU_NAME"]
nominal = next((v for k, v in NOMINAL_BF16_TFLOPS.items() if k in name), None)
summary = {"device": name, "nominal_bf16_tflops": nominal,
           "tests_passed": os.environ["TESTS_RC"] == "0", "pmlm_steps": {}}
for path in sorted(glob.glob(os.path.join(out, "pretrain_step_*.json"))):
    report = json.load(open(path))
    achieved = report["achieved_gflops"]["pmlm"]
    summary["pmlm_steps"][report["args"]["preset"]] = {
        "seconds_per_step": report["seconds_per_step"]["pmlm"],
        "model_tflops": achieved / 1e3,
        "fraction_of_nominal_bf16_peak": achieved / 1e3 / nominal if nominal else None,
        "fraction_of_measured_matmul_peak": report["fraction_of_peak"]["pmlm"],
        "target": ">= 0.40 of nominal (issue 15)"}
if os.path.exists(os.path.join(out, "decode.json")):
    summary["decode_rows"] = json.load(open(os.path.join(out, "decode.json"))).get("rows")
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
print(json.dumps({k: v for k, v in summary.items() if k != "decode_rows"}, indent=2))
EOF
exit $status
