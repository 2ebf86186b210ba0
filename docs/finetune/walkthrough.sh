#!/usr/bin/env bash
# Fine-tuning walkthrough (docs/finetune/README.md): a public pretrained MobileFaceNet, evaluated on 72 people it never
# saw, fine-tuned on 30 others (60 photos), evaluated again, next to the same network trained from scratch on those 30.
# Needs the network once (npm registry + GitHub); everything after the downloads runs offline.
# Usage: bash docs/finetune/walkthrough.sh [work-folder]   (default: walkthrough/; re-running reuses what is there)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
facet() { node "$repo/apps/cli/bin/run.js" "$@"; }
work=${1:-walkthrough}
mkdir -p "$work" && cd "$work"
[ -d "$repo/apps/cli/dist" ] || (cd "$repo" && npm run build)

# The pretrained network: faceplugin-face-recognition-js@0.0.1 (MIT) ships fr_feature.onnx, an original MobileFaceNet
# (Chen et al. 2018) with BatchNorm folded into its convolutions, 512-d, static batch 1.
if [ ! -f package/model/fr_feature.onnx ]; then
  npm pack faceplugin-face-recognition-js@0.0.1 --silent >/dev/null
  tar xzf faceplugin-face-recognition-js-0.0.1.tgz package/model/fr_feature.onnx package/LICENSE
fi

# The photos: Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0): 102 people, a neutral and a smiling
# studio portrait each, 1350×1350.
if [ ! -d faces ]; then
  git clone -q --depth 1 --filter=blob:none --sparse https://github.com/debruine/webmorphR.stim stim
  git -C stim sparse-checkout set inst/neutral_front inst/smiling_front
  for f in stim/inst/neutral_front/[0-9]*_03.jpg; do
    id=$(basename "$f" _03.jpg)
    mkdir -p "faces/$id"
    cp "$f" "faces/$id/neutral.jpg"
    cp "stim/inst/smiling_front/${id}_08.jpg" "faces/$id/smiling.jpg"
  done
fi
[ -d split ] || facet data split faces split --held-out 72

# The three commands: import, evaluate, fine-tune (then evaluate again). --low-res 16 / 12: the held-out pairs as if
# the faces had been captured 16 or 12 px wide (surveillance-like); both trainings use the lowres augmentation.
[ -f models/mfn/manifest.json ] || facet import package/model/fr_feature.onnx --out models/mfn
common=(--dataset split/train --align --augment lowres --batch-size 32 --lr 0.1 --lr-reference-batch 32 --scale 32)
[ -f runs/finetuned/model/manifest.json ] || facet train --init models/mfn "${common[@]}" --backbone-lr-scale 0.1 --num-epoch 40 --warmup-epochs 2 --output runs/finetuned
[ -f runs/scratch/model/manifest.json ] || facet train --network mobilefacenet_orig --embedding-size 512 "${common[@]}" --num-epoch 40 --warmup-epochs 2 --output runs/scratch

for model in models/mfn runs/finetuned/model runs/scratch/model; do
  for res in full 16 12; do
    flags=(); [ "$res" = full ] || flags=(--low-res "$res")
    facet eval "$model" --pairs split/pairs.txt --root split/test --align "${flags[@]}" --no-plots --json --out "eval/$(echo "$model" | tr / _)-$res" > "eval-$(echo "$model" | tr / _)-$res.json"
  done
done
node -e '
const fs = require("fs");
const rows = [["pretrained (imported)", "models/mfn"], ["fine-tuned", "runs/finetuned/model"], ["from scratch", "runs/scratch/model"]];
const pct = (x) => (100 * x).toFixed(2);
console.log("| model | full resolution: accuracy % (AUC, EER %) | 16 px faces | 12 px faces |");
console.log("|---|---|---|---|");
for (const [label, m] of rows) {
  const cell = (res) => {
    const v = JSON.parse(fs.readFileSync(`eval-${m.replace(/\//g, "_")}-${res}.json`, "utf8")).verification[0];
    return `${pct(v.accuracy)} ± ${pct(v.std)} (${v.auc.toFixed(4)}, ${pct(v.eer)})`;
  };
  console.log(`| ${label} | ${cell("full")} | ${cell("16")} | ${cell("12")} |`);
}'
