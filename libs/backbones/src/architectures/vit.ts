// Vision Transformer as insightface builds it for face recognition (arcface_torch/backbones/vit.py): 9×9 patch
// embedding (12×12 = 144 tokens at 112², the last 4 pixel rows/columns unused), learned position embedding, no
// class token; pre-norm blocks x += DropPath(Attn(LN(x))), x += DropPath(MLP(LN(x))) with a ReLU6 MLP and
// qkv without bias; final LN; training-time random token masking (kept tokens go through the blocks, a learned
// mask token fills the dropped positions afterwards); head: flatten(N·E) → Linear(no bias) → BN1d(eps 2e-5) →
// Linear(E→D, no bias) → BN1d(eps 2e-5).
import { tf } from '@facet/engine';
import { normal, torchDefault, truncatedNormal } from '../init.js';
import { batchNorm } from '../layers/batch-norm.js';
import { conv2d } from '../layers/conv.js';
import { dropPath } from '../layers/dropout.js';
import { layerNorm } from '../layers/layer-norm.js';
import { linear } from '../layers/linear.js';
import { NetworkBuilder, type BuiltNetwork, type ForwardContext } from '../network.js';
import type { ResolvedBackboneOptions } from '../types.js';

/** VisionTransformer._init_weights: Linear weights trunc_normal(std .02), biases 0. */
const linearInit = () => truncatedNormal(0.02);
const zeroBias = { kind: 'constant', value: 0 } as const;

function block(b: NetworkBuilder, name: string, dim: number, heads: number, tokens: number, dropPathRate: number) {
  const headDim = dim / heads;
  const norm1 = layerNorm(b, `${name}.norm1`, dim);
  const qkv = linear(b, `${name}.attn.qkv`, dim, 3 * dim, { bias: false, init: linearInit, rows: tokens });
  const proj = linear(b, `${name}.attn.proj`, dim, dim, { init: linearInit, biasInit: zeroBias, rows: tokens });
  const norm2 = layerNorm(b, `${name}.norm2`, dim);
  const fc1 = linear(b, `${name}.mlp.fc1`, dim, 4 * dim, { init: linearInit, biasInit: zeroBias, rows: tokens });
  const fc2 = linear(b, `${name}.mlp.fc2`, 4 * dim, dim, { init: linearInit, biasInit: zeroBias, rows: tokens });
  b.addMacs(2 * tokens * tokens * dim); // q·kᵀ and attn·v (insightface's extra_gflops)
  const scale = headDim ** -0.5;

  const attention = (x: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D => {
    const [batch, n] = x.shape;
    // [B, N, 3, h, d] → [3, B, h, N, d]
    const packed = tf.transpose(tf.reshape(qkv.apply(x, ctx), [batch, n, 3, heads, headDim]), [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(packed) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
    const out = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [batch, n, dim]);
    return proj.apply(out, ctx) as tf.Tensor3D;
  };

  return {
    apply(x: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D {
      const a = attention(norm1.apply(x, ctx) as tf.Tensor3D, ctx);
      const h = tf.add(x, dropPath(a, dropPathRate, ctx)) as tf.Tensor3D;
      const m = fc2.apply(tf.relu6(fc1.apply(norm2.apply(h, ctx), ctx)), ctx);
      return tf.add(h, dropPath(m, dropPathRate, ctx)) as tf.Tensor3D;
    },
  };
}

/** argsort of `n` uniform draws: torch.argsort(torch.rand(n)) — a uniformly random permutation. */
function randomPermutation(n: number, ctx: ForwardContext): number[] {
  const noise = Array.from({ length: n }, () => ctx.rng.next());
  return [...noise.keys()].sort((a, b) => noise[a]! - noise[b]!);
}

/**
 * Row indices implementing insightface's random_masking on a [B·N, E] token matrix, given each sample's shuffle
 * (ids_shuffle). `kept`: rows b·N + ids_shuffle[b][:keep] (the tokens that go through the blocks). `restore`:
 * for cat([kept tokens as [B·keep, E], mask tokens as [B·(N − keep), E]]), the row each output position reads, i.e.
 * gather(cat([x, mask_tokens], 1), ids_restore) with ids_restore = argsort(ids_shuffle).
 */
export function maskingRows(perms: number[][], tokens: number, keep: number): { kept: number[]; restore: number[] } {
  const batch = perms.length;
  const dropped = tokens - keep;
  const kept = perms.flatMap((p, s) => p.slice(0, keep).map((i) => s * tokens + i));
  const restore: number[] = [];
  perms.forEach((p, s) => {
    const rank = new Array<number>(tokens);
    p.forEach((tok, r) => (rank[tok] = r));
    for (let j = 0; j < tokens; j++) {
      const r = rank[j]!;
      restore.push(r < keep ? s * keep + r : batch * keep + s * dropped + (r - keep));
    }
  });
  return { kept, restore };
}

export function buildViT(o: ResolvedBackboneOptions, baseDim: number): BuiltNetwork {
  const heads = o.heads!;
  const depth = o.depth!;
  const patch = o.patchSize!;
  // width scales the embedding dimension, kept a multiple of the head count
  const dim = heads * Math.max(1, Math.round((baseDim * o.width) / heads));
  const b = new NetworkBuilder();
  // PatchEmbed.proj keeps nn.Conv2d's default init (_init_weights only touches Linear and LayerNorm)
  const patchEmbed = conv2d(b, 'patch_embed.proj', [o.inputSize, o.inputSize, 3], {
    outChannels: dim,
    kernel: patch,
    stride: patch,
    bias: true,
    init: (f) => torchDefault(f.fanIn),
  });
  const [gh, gw] = patchEmbed.outShape;
  const tokens = gh * gw;
  const posEmbed = b.param('pos_embed', [1, tokens, dim], truncatedNormal(0.02));
  // stochastic depth rule: torch.linspace(0, drop_path_rate, depth)
  const blocks = Array.from({ length: depth }, (_, i) =>
    block(b, `blocks.${i}`, dim, heads, tokens, depth > 1 ? (o.dropPath! * i) / (depth - 1) : 0),
  );
  const norm = layerNorm(b, 'norm', dim);
  const f0 = linear(b, 'feature.0', tokens * dim, dim, { bias: false, init: linearInit });
  const f1 = batchNorm(b, 'feature.1', dim, { eps: 2e-5 });
  const f2 = linear(b, 'feature.2', dim, o.embeddingSize, { bias: false, init: linearInit });
  const f3 = batchNorm(b, 'feature.3', o.embeddingSize, { eps: 2e-5 });
  const maskToken = b.param('mask_token', [1, 1, dim], normal(0.02));
  // random_masking: len_keep = int(L·(1 − ratio))
  const keep = Math.floor(tokens * (1 - o.maskRatio!));

  return {
    params: b.params,
    batchNorms: b.batchNorms,
    macs: b.macs,
    embeddingSize: o.embeddingSize,
    forward(x, ctx) {
      const batch = x.shape[0];
      const masking = ctx.training && keep < tokens;
      const plan = masking ? maskingRows(Array.from({ length: batch }, () => randomPermutation(tokens, ctx)), tokens, keep) : undefined;
      let h = ctx.scope(() => {
        const t = tf.reshape(patchEmbed.apply(x, ctx), [batch, tokens, dim]);
        const withPos = tf.add(t, ctx.variable(posEmbed)) as tf.Tensor3D;
        if (!plan) return withPos;
        const kept = tf.gather(tf.reshape(withPos, [batch * tokens, dim]), tf.tensor1d(plan.kept, 'int32'));
        return tf.reshape(kept, [batch, keep, dim]) as tf.Tensor3D;
      });
      for (const blk of blocks) {
        const input = h;
        h = ctx.scope(() => blk.apply(input, ctx));
      }
      const last = h;
      return ctx.scope(() => {
        let y: tf.Tensor = norm.apply(last, ctx);
        if (plan) {
          const masks = tf.add(tf.zeros([batch * (tokens - keep), dim]), tf.reshape(ctx.variable(maskToken), [1, dim]));
          const all = tf.concat([tf.reshape(y, [batch * keep, dim]), masks], 0);
          y = tf.gather(all, tf.tensor1d(plan.restore, 'int32'));
        }
        y = tf.reshape(y, [batch, tokens * dim]);
        y = f1.apply(f0.apply(y, ctx), ctx);
        return f3.apply(f2.apply(y, ctx), ctx) as tf.Tensor2D;
      });
    },
  };
}
