#!/usr/bin/env bash
# Rebuild the model shipped in src/salesrl/models/default/ (what `salesrl analyze` uses when no
# --model is given): synthetic conversations from `salesrl generate`, then
# `salesrl train --preset auto` (the registered recipe: `large` at this size, with the lexical
# and context columns) with MiniLM (the int8-product graph, minilm-q8), which also fits the
# confidence module (3 out-of-fold agents) and the next-move guide. Writes README.md beside
# the model with the exact commands, data size, seed and times.
#
#   bench/train_default_model.sh            # N=20000 conversations, SEED=0, PRESET=auto
#   N=5000 SEED=1 bench/train_default_model.sh
#   PRESET=default LEXICAL=1 N=2000 bench/train_default_model.sh  # the session-5 recipe + lexical
#   OUT=runs/candidate bench/train_default_model.sh   # somewhere else than the package
#   EMBEDDING=minilm bench/train_default_model.sh     # the fp32-product MiniLM graph
#   UNTIMED=0 bench/train_default_model.sh            # every call with turn times
#
# The retrieval index is capped (retrieval_max_rows) so that the package stays a few MB.
# Embeddings go through the SQLite cache in $SALESRL_CACHE_DIR (default ~/.cache/salesrl);
# point it at an empty folder to time a cold cache.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-20000}"
PRESET="${PRESET:-auto}"
SEED="${SEED:-0}"
MAX_ROWS="${MAX_ROWS:-8000}"
LEXICAL="${LEXICAL:-0}"
EMBEDDING="${EMBEDDING:-minilm-q8}"
# half the calls without turn times, so chat / email / plain-text transcripts are familiar
UNTIMED="${UNTIMED:-0.5}"
BIN="${BIN:-.venv/bin}"
OUT="${OUT:-src/salesrl/models/default}"
DATA="${DATA_DIR:-runs/default_model}/synthetic_${N}_seed${SEED}_untimed${UNTIMED}.jsonl"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
mkdir -p "$(dirname "$DATA")"

GEN=("$BIN/salesrl" generate -n "$N" --seed "$SEED" --untimed-share "$UNTIMED" -o "$DATA")
TRAIN=("$BIN/salesrl" train --data "$DATA" --out "$OUT.new" --preset "$PRESET" --embedding "$EMBEDDING"
       --seed "$SEED" --set "retrieval_max_rows=$MAX_ROWS")
if [ "$LEXICAL" = 1 ]; then TRAIN+=(--lexical); fi
echo "+ ${GEN[*]}"; "${GEN[@]}"
rm -rf "$OUT.new"
start=$(date +%s)
echo "+ ${TRAIN[*]}"; "${TRAIN[@]}"
wall=$(( $(date +%s) - start ))
rm -rf "$OUT"; mv "$OUT.new" "$OUT"
find "$OUT" -type d -exec chmod 755 {} +; find "$OUT" -type f -exec chmod 644 {} +

"$BIN/python" bench/default_model_readme.py "$OUT" "${GEN[*]}" "${TRAIN[*]/$OUT.new/$OUT}" "$wall"
