#!/usr/bin/env bash
# Install the fastest llama-cpp-python build that decodes correctly on this machine.
#
#   scripts/install_llama.sh PYTHON VERSION WHEEL_CACHE MODEL_GGUF
#
# Candidates, fastest first, by `uname -m` and the CPU's flags:
#   x86-64 with AVX-512: "avx512"  portable AVX2 + AVX-512 (VBMI, VNNI, BF16), AMX off
#   x86-64:              "avx2"    portable AVX2/FMA/F16C/BMI2 (a native -march=native build segfaults
#                                  in decode on some virtualised AVX-512 CPUs, so it is never used)
#   other (arm64):       "default" llama.cpp's own defaults (NEON; Metal on macOS)
# Each candidate is built once (about 8-15 minutes) and cached in WHEEL_CACHE/<variant>-<hash>/,
# installed, then must pass a smoke test in a child process: load the bundled model and greedily
# decode 16 tokens. A crash or empty output moves on to the next candidate. LLAMA_VARIANT=avx2 (etc.)
# forces one. The chosen variant is written to $VIRTUAL_ENV/.ragmed-llama-variant.
set -euo pipefail
PY=$1 VERSION=$2 CACHE=$3 MODEL=$4
ARCH=$(uname -m)
BASE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF"
declare -A FLAGS=(
  [avx512]="$BASE -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  [avx2]="$BASE"
  [default]="-DLLAVA_BUILD=OFF"
)
if [ -n "${LLAMA_VARIANT:-}" ]; then
  CANDIDATES=("$LLAMA_VARIANT")
elif [ "$ARCH" = x86_64 ]; then
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null && grep -qw avx512vbmi /proc/cpuinfo \
     && grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512_bf16 /proc/cpuinfo; then
    CANDIDATES=(avx512 avx2)
  else
    CANDIDATES=(avx2)
  fi
else
  CANDIDATES=(default)
fi

smoke() {  # a crash (segfault, illegal instruction) only kills this child
  "$PY" - "$MODEL" <<'EOF'
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=2, verbose=False, seed=0)
out = llm.create_completion("The clinic opens at", max_tokens=16, temperature=0.0)
text = out["choices"][0]["text"]
assert out["usage"]["completion_tokens"] >= 1 and text.strip(), "empty decode"
print("decoded:", repr(text[:40]))
EOF
}

# llama-cpp-python's own dependencies (its wheels are installed with --no-deps below)
"$PY" -m pip install -q "numpy>=1.26" "diskcache>=5.6.1" "jinja2>=2.11.3" "typing-extensions>=4.5.0"
for v in "${CANDIDATES[@]}"; do
  key=$(echo "$VERSION $ARCH ${FLAGS[$v]}" | sha1sum | cut -c1-12)
  dir="$CACHE/$v-$key"
  if ! ls "$dir"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
    echo "Building llama-cpp-python $VERSION, variant $v (about 8-15 minutes, once)"
    mkdir -p "$dir"
    if ! CMAKE_ARGS="${FLAGS[$v]}" "$PY" -m pip wheel -q --no-cache-dir --no-deps -w "$dir" "llama-cpp-python==$VERSION"; then
      echo "variant $v did not build; trying the next"; continue
    fi
  fi
  "$PY" -m pip install -q --no-deps --force-reinstall "$dir"/llama_cpp_python-"$VERSION"-*.whl
  if smoke; then
    echo "llama.cpp variant: $v (passed the decode smoke test)"
    echo "$v" > "$(dirname "$(dirname "$PY")")/.ragmed-llama-variant"
    exit 0
  fi
  echo "variant $v failed the decode smoke test on this CPU; trying the next"
done
echo "No llama-cpp-python build passed the smoke test (tried: ${CANDIDATES[*]})." >&2
exit 1
