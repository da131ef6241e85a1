# Sourced by the scripts: tool paths (cargo's bin, binaryen's wasm-opt from node_modules).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# A RUSTFLAGS variable replaces the rustflags of .cargo/config.toml instead of adding to them, so
# it would drop --cfg erase_components (12 KB gzip more wasm, docs/size.md) without a word.
if [ -n "${RUSTFLAGS:-}" ]; then
  echo "RUSTFLAGS is set (\"$RUSTFLAGS\"): it would replace .cargo/config.toml's --cfg erase_components. Unset it, or add the flag to .cargo/config.toml instead." >&2
  exit 1
fi
