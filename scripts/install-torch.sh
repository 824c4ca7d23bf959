#!/bin/sh
# Install the CPU build of PyTorch into the Python named by $1 (default: python3).
#
# In this order (docs/install.md):
#   1. a wheel of the pinned version in pip's find-links (the arena's own machines keep
#      the CPU build on disk): take it, then its dependencies from the usual index;
#   2. on Linux, the PyTorch CPU wheel index: PyPI's Linux wheels are CUDA builds of
#      several GB, which a CPU machine does not need;
#   3. elsewhere (macOS, Windows), PyPI, whose wheels there are the CPU build.
# TORCH_VERSION and TORCH_INDEX override the version and the index; a torch of the
# pinned version that is already installed is kept.
set -eu
py=${1:-python3}
version=${TORCH_VERSION:-2.13.0}
index=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}

if "$py" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$version')" 2>/dev/null; then
    echo "torch $version is installed"
    exit 0
fi
if "$py" -m pip install --quiet --no-index --no-deps "torch==$version" 2>/dev/null; then
    echo "torch $version: the wheel in pip's find-links"
    "$py" -m pip install --quiet "torch==$version"
    exit 0
fi
case "$(uname -s)" in
    Linux)
        echo "torch $version: the CPU build from $index"
        "$py" -m pip install --quiet "torch==$version" --index-url "$index"
        ;;
    *)
        echo "torch $version from PyPI (the CPU build on this platform)"
        "$py" -m pip install --quiet "torch==$version"
        ;;
esac
