// Where the replica worker script is: dist/replica-worker.js when built, bundled from source otherwise — with the
// Facet libs bundled from their sources too, so a replica runs the same backbone code as the main thread.
import { workerScriptUrl } from '@facet/engine';

let cached: Promise<URL> | undefined;

export function replicaWorkerUrl(): Promise<URL> {
  cached ??= workerScriptUrl({
    from: import.meta.url,
    name: 'replica-worker',
    resolvePackage: () => import.meta.resolve('@facet/train'),
    bundleFacetSources: true,
    fallback: 'train with workers=1',
  }).catch((e: unknown) => {
    cached = undefined;
    throw new Error(`the training replica's worker: ${(e as Error).message}`);
  });
  return cached;
}
