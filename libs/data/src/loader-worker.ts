// Worker-thread entry of BatchLoader: opens the dataset from its descriptor once, then prepares sample jobs and
// sends the float buffers back as transferables (no copy).

import { parentPort, workerData } from 'node:worker_threads';
import { DataError } from './errors.js';
import { prepareSamples, type SampleJob } from './loader-core.js';
import { openFromDescriptor } from './open.js';
import type { DatasetDescriptor } from './types.js';

interface JobMessage {
  id: number;
  job: SampleJob;
}

const port = parentPort;
if (!port) throw new Error('loader-worker must run in a worker thread');
const ready = openFromDescriptor((workerData as { descriptor: DatasetDescriptor }).descriptor);

port.on('message', async (msg: JobMessage) => {
  try {
    const ds = await ready;
    const res = await prepareSamples(ds, msg.job);
    const transfer: ArrayBuffer[] = [res.images.buffer as ArrayBuffer, res.indices.buffer as ArrayBuffer];
    if (res.views2) transfer.push(res.views2.buffer as ArrayBuffer);
    port.postMessage({ id: msg.id, ok: true, result: res }, transfer);
  } catch (e) {
    const err = e as Error;
    port.postMessage({ id: msg.id, ok: false, message: err?.message ?? String(e), file: e instanceof DataError ? e.file : undefined, dataError: e instanceof DataError });
  }
});
