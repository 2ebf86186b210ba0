// The output pool recycles a native kernel's buffer once its tensor is disposed, but never one that something else
// can still see: an array handed out by dataSync(), or one a view (the cpu Slice's subarray) points into.
import { describe, expect, it } from 'vitest';
import { BufferPool, outputPool, poolCapBytes } from '../src/index.js';
import { addonLoaded, randomArray, tf } from './helpers.js';

describe('BufferPool', () => {
  it('reuses a detached buffer, keeps escaped and viewed ones, and caps idle memory', () => {
    const pool = new BufferPool(64);
    const a = pool.take(8);
    pool.attach(a);
    pool.detach(a);
    expect(pool.take(8)).toBe(a); // back from the pool
    const b = pool.take(8);
    pool.attach(b);
    pool.escape(b);
    pool.detach(b);
    expect(pool.take(8)).not.toBe(b); // escaped: never reused
    const c = pool.take(8);
    pool.attach(c);
    pool.attach(c.subarray(2)); // a view of it became another tensor's storage
    pool.detach(c);
    expect(pool.stats().idleBuffers).toBe(0);
    const big = pool.take(32); // 128 bytes > the 64-byte cap
    pool.attach(big);
    pool.detach(big);
    expect(pool.stats().idleBytes).toBe(0);
    const z = pool.take(8);
    pool.attach(z);
    z.fill(5);
    pool.detach(z);
    expect(Array.from(pool.take(8, true))).toEqual(new Array(8).fill(0)); // zeroed on request
  });
});

describe.skipIf(!addonLoaded)('the native backend with the pool', () => {
  it('runs these tests with poisoned (NaN) output buffers', () => {
    expect(outputPool.poison).toBe(true);
    expect(Number.isNaN(outputPool.take(4)[0])).toBe(true);
  });

  it('arrays read with dataSync and slices of native outputs survive their tensors and later kernels', async () => {
    await tf.setBackend('native');
    const x = tf.tensor2d(randomArray(64 * 32, 5), [64, 32]);
    const y = tf.add(x, 1); // native output
    const read = y.dataSync();
    const copy = Float32Array.from(read);
    const row = tf.slice(y, [3, 0], [1, 32]); // the cpu Slice: a subarray view of y's buffer
    const rowCopy = Float32Array.from(row.dataSync());
    y.dispose();
    for (let i = 0; i < 5; i++) tf.dispose(tf.mul(x, 3)); // same-sized native outputs, recycled between them
    expect(Array.from(read)).toEqual(Array.from(copy));
    expect(Array.from(row.dataSync())).toEqual(Array.from(rowCopy));
    tf.dispose([x, row]);
  });

  it('recycles buffers in a loop of native kernels', async () => {
    await tf.setBackend('native');
    const x = tf.tensor2d(randomArray(256 * 64, 6), [256, 64]);
    tf.dispose(tf.tidy(() => tf.add(tf.mul(x, 2), x)));
    const before = outputPool.stats().idleBuffers;
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) tf.dispose(tf.tidy(() => tf.add(tf.mul(x, 2), x)));
    expect(outputPool.stats().idleBuffers).toBe(before); // the same buffers went round, no new ones kept
    x.dispose();
  });
});

describe('pool cap', () => {
  it('keeps a quarter of RAM idle, between 1 and 8 GiB; FACET_NATIVE_POOL_MIB overrides', () => {
    const GiB = 2 ** 30;
    expect(poolCapBytes({}, 24 * GiB)).toBe(6 * GiB);
    expect(poolCapBytes({}, 2 * GiB)).toBe(GiB);
    expect(poolCapBytes({}, 256 * GiB)).toBe(8 * GiB);
    expect(poolCapBytes({ FACET_NATIVE_POOL_MIB: '512' }, 24 * GiB)).toBe(512 * 2 ** 20);
    expect(poolCapBytes({ FACET_NATIVE_POOL_MIB: '0' }, 24 * GiB)).toBe(0);
    expect(poolCapBytes({ FACET_NATIVE_POOL_MIB: 'lots' }, 24 * GiB)).toBe(6 * GiB);
  });
});
