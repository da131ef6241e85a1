# Sourced by the scripts: tool paths (cargo's bin, binaryen's wasm-opt from node_modules).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
