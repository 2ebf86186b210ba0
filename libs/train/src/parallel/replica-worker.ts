// One data-parallel replica: its own tfjs + wasm engine (its own 4 GiB heap), a backbone copy and optimizer, working
// on its shard of every batch. A step, all synchronous on this thread:
//   1. forward of the shard with SyncBN (BN statistics all-reduced over the replicas at every layer);
//   2. embeddings → shared memory, 'embedded' → main thread, which computes the objective on the whole batch;
//   3. block (Atomics.wait) until the main thread publishes dL/d(embeddings); backprop the surrogate
//      Σ emb ⊙ dL/d(emb), whose gradient w.r.t. every backbone weight is this shard's share of the true one;
//   4. copy the gradients from the wasm heap into shared memory; reduce-scatter the sum over replicas; upload the
//      whole sum, clip by its global norm and apply the optimizer — the same inputs and the same ops on every
//      replica, so the replicas stay bit-identical without ever exchanging weights.
import { parentPort, workerData } from 'node:worker_threads';
import { createBackbone, type ApplyOptions } from '@facet/backbones';
import { initEngine, tf } from '@facet/engine';
import { adamw, clipByGlobalNorm, sgd, type BackboneOptimizer } from '../optimizer.js';
import type { FromReplica, ReplicaInit, ReplicaState, ToReplica } from './protocol.js';
import { ReplicaSync } from './replica-sync.js';
import { viewRegions } from './shared-buffers.js';
import { copyTensorInto, tensorFromShared } from './tensor-memory.js';

const init = workerData as ReplicaInit;
const port = parentPort!;
const post = (m: FromReplica) => port.postMessage(m);
const views = viewRegions(init.regions);
const sync = new ReplicaSync(views.control, views.stats, init.statLength, init.rank, init.workers);

function fail(e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', message: err.message, stack: err.stack });
}

async function start(): Promise<void> {
  await initEngine({ backend: init.backend });
  // Weights come from the main thread right after; the seed only separates the replicas' dropout streams.
  const backbone = createBackbone(init.network, { ...init.backbone, seed: (init.backbone.seed ?? 0) + init.rank });
  const vars = backbone.trainableVariables();
  const paramOf = new Map<string, string>();
  for (const [param, v] of Object.entries(backbone.getWeights())) paramOf.set((v as tf.Variable).name, param);
  const varName = new Map([...paramOf].map(([v, p]) => [p, v]));
  const mine = vars.map((v) => ({ name: paramOf.get(v.name)!, size: v.size }));
  if (JSON.stringify(mine) !== JSON.stringify(init.layout)) throw new Error(`internal: replica ${init.rank} built a backbone whose parameters differ from the main thread's`);
  const parameters = mine.reduce((s, p) => s + p.size, 0);
  const o = init.optimizer;
  const optimizer: BackboneOptimizer = o.name === 'sgd' ? sgd(vars, { momentum: o.momentum, weightDecay: o.weightDecay }) : adamw(vars, { weightDecay: o.weightDecay });
  const { start: row0, count } = init.shards[init.rank]!;
  const S = init.backbone.inputSize;
  const D = init.backbone.embeddingSize;
  const pixels = S * S * 3;
  const applyOptions: ApplyOptions = init.frozenBatchNorm ? { training: true, frozenBatchNorm: true } : { training: true, batchStatsAllReduce: (sums) => sync.allReduce(sums) };

  const step = (seq: number, lr: number) => {
    const t0 = performance.now();
    sync.waitedMs = 0;
    let tEmbedded = t0;
    let tGradient = t0;
    // BN running stats change in the forward: keep a copy so a non-finite step leaves no trace (as trainer.ts)
    const bnBackup = backbone.batchNorms().flatMap((l) => [tf.clone(l.runningMean), tf.clone(l.runningVar)]);
    const shardOf = (a: Float32Array, width: number) => a.subarray(row0 * width, (row0 + count) * width);
    const x = tensorFromShared<tf.Rank.R4>(shardOf(views.images, pixels), [count, S, S, 3]);
    const x2 = views.images2 ? tensorFromShared<tf.Rank.R4>(shardOf(views.images2, pixels), [count, S, S, 3]) : undefined;
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const emb = backbone.apply(x, applyOptions);
          const emb2 = x2 ? backbone.apply(x2, applyOptions) : undefined;
          copyTensorInto(emb, views.embeddings, row0 * D);
          if (emb2) copyTensorInto(emb2, views.embeddings2!, row0 * D);
          post({ type: 'embedded', seq });
          tEmbedded = performance.now();
          sync.waitForGradient(seq);
          tGradient = performance.now();
          // d/dθ Σ emb ⊙ g = Σ (∂emb/∂θ)ᵀ g with g = dL/d(emb) of the whole batch's objective: the chain rule, cut at emb
          let surrogate = tf.sum(tf.mul(emb, tensorFromShared<tf.Rank.R2>(shardOf(views.embeddingGrads, D), [count, D])));
          if (emb2) surrogate = tf.add(surrogate, tf.sum(tf.mul(emb2, tensorFromShared<tf.Rank.R2>(shardOf(views.embeddingGrads2!, D), [count, D]))));
          return surrogate as tf.Scalar;
        }),
      vars,
    );
    tf.dispose([value, x, ...(x2 ? [x2] : [])]);
    const tBackward = performance.now();
    const row = views.grads.subarray(init.rank * parameters, (init.rank + 1) * parameters);
    let offset = 0;
    for (const v of vars) {
      const g = grads[v.name];
      if (g) copyTensorInto(g, row, offset);
      else row.fill(0, offset, offset + v.size);
      offset += v.size;
    }
    tf.dispose(Object.values(grads));
    sync.barrier();
    sync.reduceSlice(views.grads, views.gradSum);
    sync.barrier();
    const tExchanged = performance.now();
    const summed: Record<string, tf.Tensor> = {};
    offset = 0;
    for (const v of vars) {
      // a variable without a gradient has none on any replica: leave it out, as the single-thread step does
      if (grads[v.name]) summed[v.name] = tensorFromShared(views.gradSum.subarray(offset, offset + v.size), v.shape);
      offset += v.size;
    }
    const clipped = clipByGlobalNorm(summed, init.clipGradNorm);
    const loss = views.scalars[0]!;
    const finite = Number.isFinite(loss) && Number.isFinite(clipped.norm);
    if (finite) optimizer.apply(clipped.grads, lr);
    else {
      backbone.batchNorms().forEach((l, i) => {
        l.runningMean.assign(bnBackup[2 * i]!);
        l.runningVar.assign(bnBackup[2 * i + 1]!);
      });
    }
    tf.dispose([...bnBackup, ...Object.values(summed)]);
    if (clipped.grads !== summed) tf.dispose(Object.values(clipped.grads));
    const t1 = performance.now();
    const phases = { forward: tEmbedded - t0, head: tGradient - tEmbedded, backward: tBackward - tGradient, exchange: tExchanged - tBackward, update: t1 - tExchanged, barrierWait: sync.waitedMs };
    post({ type: 'done', seq, gradNorm: clipped.norm, finite, numTensors: tf.memory().numTensors, phases });
  };

  const getState = (): ReplicaState => {
    const weights: Record<string, Float32Array> = {};
    for (const [param, t] of Object.entries(backbone.getWeights())) {
      const a = new Float32Array(t.size);
      copyTensorInto(t, a);
      weights[param] = a;
    }
    const s = optimizer.getState();
    const slots: Record<string, Float32Array> = {};
    for (const [key, a] of Object.entries(s.slots)) {
      const cut = key.lastIndexOf('/');
      slots[`${paramOf.get(key.slice(0, cut))}${key.slice(cut)}`] = a;
    }
    return { weights, optimizer: { kind: s.kind, step: s.step, slots } };
  };

  const setState = (state: Partial<ReplicaState>) => {
    if (state.weights) backbone.setWeights(state.weights);
    if (state.optimizer) {
      const slots: Record<string, Float32Array> = {};
      for (const [key, a] of Object.entries(state.optimizer.slots)) {
        const cut = key.lastIndexOf('/');
        const name = varName.get(key.slice(0, cut));
        if (!name) throw new Error(`optimizer state names parameter "${key.slice(0, cut)}", which this backbone does not have`);
        slots[`${name}${key.slice(cut)}`] = a;
      }
      optimizer.setState({ kind: state.optimizer.kind, step: state.optimizer.step, slots });
    }
  };

  port.on('message', (m: ToReplica) => {
    try {
      if (m.type === 'step') step(m.seq, m.lr);
      else if (m.type === 'getState') post({ type: 'state', state: getState() });
      else if (m.type === 'setState') {
        setState(m.state);
        post({ type: 'stateSet' });
      } else if (m.type === 'close') {
        optimizer.dispose();
        backbone.dispose();
        port.close();
      }
    } catch (e) {
      fail(e);
    }
  });
  post({ type: 'ready', numTensors: tf.memory().numTensors });
}

start().catch(fail);
