// Where the loader's worker script is: dist/loader-worker.js when built, bundled from source otherwise.
import { workerScriptUrl } from '@facet/engine';
import { DataError, reason } from './errors.js';

let cached: Promise<URL> | undefined;

export function loaderWorkerUrl(): Promise<URL> {
  cached ??= workerScriptUrl({
    from: import.meta.url,
    name: 'loader-worker',
    resolvePackage: () => import.meta.resolve('@facet/data'),
    fallback: 'use numWorkers: 0',
  }).catch((e: unknown) => {
    cached = undefined;
    throw new DataError(`the data loader's worker: ${reason(e)}`);
  });
  return cached;
}
