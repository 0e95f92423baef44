#!/usr/bin/env bash
# The GPU check: one carried binary, run on a GPU machine that has no Rust and no network.
#
#   bash scripts/gpu-check.sh [build]   here: builds a stripped `epri` with --features cuda,opencl
#                                       into gpu-check/ (git-ignored; carry it with the working
#                                       tree), with CUDA 13.0's NVRTC (from its wheel, packed as
#                                       nvrtc.tar.xz) and the OpenCL ICD loader, and prints the
#                                       size of what travels.
#   bash scripts/gpu-check.sh run       there, from the repository root: `epri selftest` on cuda
#                                       and opencl, then `epri tv` and `epri fbp` on phalanx and
#                                       fusillo (the gallery's parameters) on cpu, cuda and
#                                       opencl, each GPU image compared with the CPU's (relative
#                                       l2 error, `epri compare`); prints one table.
#
# A backend that is absent (no driver, no device, no NVRTC) is one `absent` row saying why, and
# the check goes on without it; the exit status is 1 only if something ran and failed. Each
# command is bounded by GPU_CHECK_TIMEOUT seconds (default 120) and the whole run by
# GPU_CHECK_BUDGET seconds (default 450: what is left is skipped); BACKENDS (default
# "cpu cuda opencl") restricts the backends.
set -uo pipefail
cd "$(dirname "$0")/.."
DIR=gpu-check

build() {
  set -e
  cargo build --release -p epri-demos --bin epri --features cuda,opencl
  mkdir -p "$DIR/lib"
  install -m 755 target/release/epri "$DIR/epri"
  strip "$DIR/epri"
  # The OpenCL ICD loader the binary links to, in case the GPU machine has none.
  cp -L "$(ldconfig -p | awk '/libOpenCL.so.1 .*x86-64/ { print $NF; exit }')" "$DIR/lib/"
  # NVRTC (CUDA's runtime compiler, which the CUDA backend compiles its kernels with): the
  # wheel pinned to the driver's CUDA 13.0, cached as in .ci/run; only the two libraries the
  # backend loads travel, xz-compressed.
  local nvrtc="${NVRTC_DIR:-$HOME/.cache/epri/nvrtc-13.0}"
  if [ ! -e "$nvrtc/nvidia/cu13/lib/libnvrtc.so.13" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$nvrtc" "nvidia-cuda-nvrtc==13.0.*"
  fi
  if [ ! -e "$DIR/nvrtc.tar.xz" ] || [ "$nvrtc/nvidia/cu13/lib/libnvrtc.so.13" -nt "$DIR/nvrtc.tar.xz" ]; then
    tar -C "$nvrtc/nvidia/cu13/lib" -cf - libnvrtc.so.13 libnvrtc-builtins.so.13.0 | xz -6 -T0 > "$DIR/nvrtc.tar.xz"
  fi
  local carried tracked
  carried=$(du -cb "$DIR"/epri "$DIR"/lib/* "$DIR"/nvrtc.tar.xz | tail -1 | cut -f1)
  tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | awk '/total$/ { t += $1 } END { print t }')
  du -h "$DIR"/epri "$DIR"/lib/* "$DIR"/nvrtc.tar.xz
  echo "carried: $((carried / 1048576)) MiB; tracked files: $((tracked / 1048576)) MiB; together $(((carried + tracked) / 1048576)) MiB (the device tool carries at most 64 MiB)"
  echo "on the GPU machine: bash scripts/gpu-check.sh run   (carry: [\"$DIR\"])"
}

# The loader path: the carried NVRTC (unpacked once into a temporary folder) unless the machine
# has libnvrtc.so.13, and the carried OpenCL loader unless the machine has one; an NVIDIA ICD
# file made for the loader when the driver's OpenCL library is there but its ICD file is not.
environment() {
  local tmp="${TMPDIR:-/tmp}/epri-gpu-check"
  mkdir -p "$tmp"
  export EPRI_DATASETS="$PWD/datasets"
  if ! ldconfig -p | grep -q 'libnvrtc.so.13 ' && [ -e "$DIR/nvrtc.tar.xz" ]; then
    [ -e "$tmp/nvrtc/libnvrtc.so.13" ] || { mkdir -p "$tmp/nvrtc" && xz -dc "$DIR/nvrtc.tar.xz" | tar -C "$tmp/nvrtc" -xf -; }
    export LD_LIBRARY_PATH="$tmp/nvrtc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  if ! ldconfig -p | grep -q 'libOpenCL.so.1 '; then
    export LD_LIBRARY_PATH="$PWD/$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  if ! ls /etc/OpenCL/vendors/*nvidia* >/dev/null 2>&1 && ldconfig -p | grep -q 'libnvidia-opencl.so.1 '; then
    mkdir -p "$tmp/vendors"
    echo libnvidia-opencl.so.1 > "$tmp/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$tmp/vendors"
  fi
}

ROWS=()
row() { ROWS+=("$(printf '%-18s %-7s %-8s %-12s %s' "$@")"); printf '%-18s %-7s %-8s %-12s %s\n' "$@"; }

# The first line of `file` that says why a command failed.
why() { grep -m1 -E '^error|FAILED|failed' "$1" | cut -c1-160 || tail -n1 "$1"; }

# Runs `epri ARGS...` with its output in LOG (the first argument), within the per-command limit
# and what is left of the budget; status 124 when out of time.
bounded() {
  local log="$1" left=$((BUDGET - (SECONDS - START)))
  shift
  ((left > 0)) || { echo "error: skipped: the time budget (GPU_CHECK_BUDGET=$BUDGET s) is spent" > "$log"; return 124; }
  timeout "$((left < LIMIT ? left : LIMIT))" "$EPRI" "$@" > "$log" 2>&1 || {
    local status=$?
    ((status == 124)) && echo "error: timed out (GPU_CHECK_TIMEOUT=$LIMIT s, GPU_CHECK_BUDGET=$BUDGET s)" >> "$log"
    return "$status"
  }
}

run() {
  environment
  EPRI="$DIR/epri" LIMIT="${GPU_CHECK_TIMEOUT:-120}" BUDGET="${GPU_CHECK_BUDGET:-450}" START=$SECONDS
  local out="$DIR/out" backends=""
  [ -x "$EPRI" ] || { echo "error: $EPRI missing: run 'bash scripts/gpu-check.sh build' where Rust is, and carry $DIR" >&2; exit 1; }
  mkdir -p "$out"
  "$EPRI" devices
  echo
  printf '%-18s %-7s %-8s %-12s %s\n' check backend result time "rel. l2 vs cpu / why"
  for b in ${BACKENDS:-cpu cuda opencl}; do
    [ "$b" = cpu ] && { backends+=" cpu"; continue; }
    local log="$out/selftest-$b.log" t0=$SECONDS
    if bounded "$log" selftest --backend "$b"; then
      row selftest "$b" ok "$((SECONDS - t0)) s" "$(grep -E '^[0-9]+ passed' "$log")"
    elif ! grep -q 'epri selftest on' "$log"; then
      row selftest "$b" absent - "$(why "$log")"
      continue
    else
      row selftest "$b" FAILED "$((SECONDS - t0)) s" "$(why "$log")"
    fi
    backends+=" $b"
  done
  local cases=(
    "tv_phalanx|tv --data phalanx-20220203 --delta 0.008 --shape 400,200 --lambda 1 --iters 1000 --tol 1e-5"
    "tv_fusillo|tv --data fusillo-20091002 --delta 0.05 --shape 100,50,50 --lambda 500 --iters 500 --tol 1e-4"
    "fbp_phalanx|fbp --data phalanx-20220203 --delta 0.008 --shape 400,200 --cutoff 0.1"
    "fbp_fusillo|fbp --data fusillo-20091002 --delta 0.05 --shape 100,50,50 --cutoff 0.1"
  )
  for c in "${cases[@]}"; do
    local name="${c%%|*}" args="${c#*|}"
    for b in $backends; do
      local npy="$out/$name-$b.npy" log="$out/$name-$b.log"
      rm -f "$npy"
      # shellcheck disable=SC2086
      if bounded "$log" $args --quiet --backend "$b" --out "$npy"; then
        local took iters cmp=""
        took=$(sed -n '1s/.* in \(.*\) on .*/\1/p' "$log")
        iters=$(grep -o '[0-9]* iterations' "$log" | head -n1)
        if [ "$b" != cpu ] && [ -e "$out/$name-cpu.npy" ]; then
          cmp=$("$EPRI" compare "$npy" "$out/$name-cpu.npy" 2>&1 | awk '{ print $NF }')
        fi
        row "$name" "$b" ok "$took" "$cmp${iters:+ ($iters)}"
      else
        row "$name" "$b" FAILED "-" "$(why "$log")"
      fi
    done
  done
  echo
  echo "gpu-check: $((SECONDS - START)) s; logs and images in $out"
  printf '%s\n' "${ROWS[@]}" | grep -q ' FAILED ' && return 1
  return 0
}

case "${1:-build}" in
  build) build ;;
  run) run ;;
  *) echo "usage: bash scripts/gpu-check.sh [build|run]" >&2; exit 2 ;;
esac
