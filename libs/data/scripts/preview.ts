// Writes a contact sheet of synthetic faces (rows = identities, columns = variants) as a PNG for eyeballing.
//   node libs/data/scripts/run.mjs libs/data/scripts/preview.ts out.png [identities=6] [variants=8] [nuisance=1]
import { writeFileSync } from 'node:fs';
import { encodeImage } from '../src/image/encode.js';
import { renderSyntheticFace } from '../src/synthetic/render.js';

const [out = 'synthetic-faces.png', ids = '6', vars = '8', nuis = '1'] = process.argv.slice(2);
const nI = Number(ids);
const nV = Number(vars);
const S = 112;
const sheet = new Uint8Array(nI * S * nV * S * 3);
const t0 = performance.now();
for (let i = 0; i < nI; i++) {
  for (let j = 0; j < nV; j++) {
    const img = renderSyntheticFace(i, j, { nuisance: Number(nuis) });
    for (let y = 0; y < S; y++) sheet.set(img.subarray(y * S * 3, (y + 1) * S * 3), ((i * S + y) * nV * S + j * S) * 3);
  }
}
console.log(`rendered ${nI * nV} faces in ${(performance.now() - t0).toFixed(0)} ms`);
writeFileSync(out, await encodeImage(sheet, nV * S, nI * S, 'png'));
console.log(`wrote ${out}`);
