#!/usr/bin/env bash
# Installs murmur's build and run dependencies from Debian 12 packages.
# Idempotent: packages already present are left alone and apt is not called at all
# when nothing is missing. Runs as root, or through sudo when available.
#   --fuzz   also clang and its libFuzzer/sanitizer runtimes (for `make fuzz`)
#   --format also clang-format (for `make format`)
#   --codec-bench  also fpzip and ZFP, which bench/value_codecs.cc compares zstd with
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libtorch-dev            # LibTorch 1.13 (train module only)
  libopenblas0-pthread    # its BLAS (else the reference BLAS); murmur runs it with one thread
  libtomlplusplus-dev     # TOML configs
  libcli11-dev            # command line
  nlohmann-json3-dev      # summary.json
  zlib1g-dev              # gzip'd IDX files
  libzstd-dev             # the lossless zstd value codec
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist   # default dataset
  libopenmpi-dev openmpi-bin  # MPI transport (mpirun -np P murmur run ...)
  gnuplot-nox             # murmur plot
  python3-dev pybind11-dev python3-numpy python3-pytest  # the Python package (build/python)
  python3-torch           # murmur.run(model=a torch.nn.Module); the fixture scripts
)
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --format) packages+=(clang-format) ;;
    --codec-bench) packages+=(libfpzip-dev libzfp-dev) ;;
    *) echo "install-deps: unknown option $arg (known: --fuzz, --format, --codec-bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
