// `facet invert runs/x` and `facet invert runs/x/model` both work: the model is the directory holding
// manifest.json; the run directory (checkpoints/, for class centres) is the one above it when it has checkpoints.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface ModelLocation {
  /** Directory for loadBackbone. */
  modelDir: string;
  /** The `facet train` output directory, when there is one (class centres live in its checkpoints/). */
  runDir?: string;
}

export function locateModel(path: string): ModelLocation {
  const p = resolve(path);
  if (existsSync(join(p, 'manifest.json'))) {
    const up = dirname(p);
    return existsSync(join(up, 'checkpoints')) ? { modelDir: p, runDir: up } : { modelDir: p };
  }
  if (existsSync(join(p, 'model', 'manifest.json'))) return { modelDir: join(p, 'model'), runDir: p };
  throw new Error(`${path} is neither a model directory (manifest.json) nor a facet train run (model/manifest.json); pass the --output of facet train or its model/ folder.`);
}
