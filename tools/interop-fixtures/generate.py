"""Writes @facet/interop's test fixtures with real PyTorch: narrow arcface_torch backbones saved by torch.save in
every layout the importer reads, their input images and PyTorch's eval-mode embeddings.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/interop-fixtures/generate.py [out-dir]

out-dir defaults to libs/interop/test/fixtures. The safetensors fixture needs the `safetensors` package: with
Debian's torch and no pip package, unzip its wheel somewhere and put that folder on PYTHONPATH (the file is skipped
otherwise and the committed one stays). Everything is seeded; the outputs are committed, so the tests never need
torch. Sizes are kept to a few hundred kB in all (width 3/64, 1/16 and 1/32 networks, small embeddings, uint8 images).
"""
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arcface_models import build  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'libs', 'interop', 'test', 'fixtures'))

SPECS = {
    # IResNet-18's stages (2,2,2,2) at width 3/64: channels 3/6/12/24, 32x32 input -> 2x2 final map, fc 96 -> 16
    'iresnet18': dict(family='iresnet', blocks=[2, 2, 2, 2], width=0.046875, input_size=32, embedding_size=16),
    # one block per stage at width 1/32 (channels 2/4/8/16): the small model every file-layout variant is made of
    'ir_tiny': dict(family='iresnet', blocks=[1, 1, 1, 1], width=0.03125, input_size=32, embedding_size=16),
    # get_mbf with blocks (1,2,2,1) at width 1/16: the grouped 3x3 (groups = 64*width) and depthwise convs; 56x56
    # input -> 4x4 GDC kernel
    'mbf': dict(family='mobilefacenet', blocks=[1, 2, 2, 1], width=0.0625, input_size=56, embedding_size=16),
    # vit_t at width 1/16 (dim 16, 8 heads of 2), 2 blocks, 9x9 patches of a 36x36 input: 4x4 tokens
    'vit': dict(family='vit', width=0.0625, dim=16, depth=2, heads=8, patch=9, input_size=36, embedding_size=16),
}
# per input side, so adding a model of a new side leaves the other images as they were
IMAGE_SEEDS = {32: 100, 56: 101, 36: 102}


def randomize_and_calibrate(model, spec, seed):
    """Random BN affine parameters and PReLU slopes (so a wrong mapping shows), then BN running statistics from a few
    train-mode forward passes (cumulative average) so eval mode sees realistic statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                if name != 'features':  # IResNet's features.weight is frozen at 1 in insightface
                    m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.momentum = None
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(0.5 * torch.rand(m.weight.shape, generator=g))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
        model.train()
        s = spec['input_size']
        for _ in range(4):
            model(torch.randn(16, 3, s, s, generator=g))
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.momentum = 0.1
    model.eval()


def images(n, size, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def embed(model, img_u8):
    x = torch.from_numpy(img_u8.astype(np.float32)).permute(0, 3, 1, 2).contiguous()
    x = (x - 127.5) / 127.5  # insightface's Normalize(0.5, 0.5) on RGB
    with torch.no_grad():
        return model(x).numpy().astype('<f4')


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, 'wb') as f:
        f.write(data)
    return name


class RunsAShellCommand:
    """What a malicious checkpoint holds: unpickling it would call os.system. Facet must refuse, never call."""

    def __reduce__(self):
        return (os.system, ('echo this pickle was executed',))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(2048)
    manifest = {'generator': 'tools/interop-fixtures/generate.py', 'torch': torch.__version__, 'models': {}, 'files': []}
    imgs = {}
    for size in sorted({s['input_size'] for s in SPECS.values()}):
        imgs[size] = images(3, size, IMAGE_SEEDS[size])
        write(f'images_{size}.u8', imgs[size].tobytes())
    models = {}
    for i, (key, spec) in enumerate(SPECS.items()):
        torch.manual_seed(7 + i)
        model = build(spec)
        randomize_and_calibrate(model, spec, 1000 + i)
        models[key] = model
        emb = embed(model, imgs[spec['input_size']])
        write(f'{key}.emb.f32', emb.tobytes())
        manifest['models'][key] = dict(spec, images=f"images_{spec['input_size']}.u8", count=3, embeddings=f'{key}.emb.f32')

    def entry(file, model, **extra):
        manifest['files'].append(dict(file=file, model=model, **extra))

    torch.save(models['iresnet18'].state_dict(), os.path.join(OUT, 'iresnet18.pth'))
    entry('iresnet18.pth', 'iresnet18', layout='zip', dtype='float32')
    torch.save(models['mbf'].state_dict(), os.path.join(OUT, 'mbf.pth'))
    entry('mbf.pth', 'mbf', layout='zip', dtype='float32')
    torch.save(models['vit'].state_dict(), os.path.join(OUT, 'vit_t.pth'))
    entry('vit_t.pth', 'vit', layout='zip', dtype='float32')

    tiny = models['ir_tiny']
    sd = tiny.state_dict()
    torch.save(sd, os.path.join(OUT, 'ir_tiny_legacy.pth'), _use_new_zipfile_serialization=False)
    entry('ir_tiny_legacy.pth', 'ir_tiny', layout='legacy', dtype='float32')
    # arcface_torch's save_all_states checkpoint (train_v2.py), optimizer/scheduler states left out to stay small
    torch.save({'epoch': 3, 'global_step': 1234, 'state_dict_backbone': sd}, os.path.join(OUT, 'ir_tiny_checkpoint_gpu_0.pt'))
    entry('ir_tiny_checkpoint_gpu_0.pt', 'ir_tiny', layout='zip', dtype='float32', wrapped='state_dict_backbone')
    # a DistributedDataParallel module's state dict: every name prefixed with 'module.'
    ddp = type(sd)(('module.' + k, v) for k, v in sd.items())
    torch.save(ddp, os.path.join(OUT, 'ir_tiny_ddp.pth'))
    entry('ir_tiny_ddp.pth', 'ir_tiny', layout='zip', dtype='float32', prefix='module.')

    # tensors that are views into shared storages at nonzero offsets (what saving slices of one buffer gives):
    # every BN's four vectors carved out of one flat tensor per layer, padded in front
    views = type(sd)()
    for k, v in sd.items():
        views[k] = v
    for k in [k for k in sd if k.endswith('.running_var')]:
        base = k[: -len('running_var')]
        parts = [sd[base + n] for n in ('weight', 'bias', 'running_mean', 'running_var')]
        flat = torch.cat([torch.zeros(3)] + parts)
        o = 3
        for n, p in zip(('weight', 'bias', 'running_mean', 'running_var'), parts):
            views[base + n] = flat[o:o + p.numel()]
            o += p.numel()
    torch.save(views, os.path.join(OUT, 'ir_tiny_views.pth'))
    entry('ir_tiny_views.pth', 'ir_tiny', layout='zip', dtype='float32', views='storage offsets')

    # fp16 weights (model.half()); the reference runs the float32 model holding the same fp16-rounded values
    half = build(SPECS['ir_tiny'])
    half.load_state_dict(sd)
    half.half()
    torch.save(half.state_dict(), os.path.join(OUT, 'ir_tiny_fp16.pth'))
    rounded = build(SPECS['ir_tiny'])
    rounded.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.state_dict().items()})
    rounded.eval()
    write('ir_tiny_fp16.emb.f32', embed(rounded, imgs[SPECS['ir_tiny']['input_size']]).tobytes())
    entry('ir_tiny_fp16.pth', 'ir_tiny', layout='zip', dtype='float16', embeddings='ir_tiny_fp16.emb.f32')

    try:
        from safetensors.torch import save_file
        save_file(sd, os.path.join(OUT, 'ir_tiny.safetensors'))
        print('wrote ir_tiny.safetensors')
    except ImportError:
        print('safetensors not importable: ir_tiny.safetensors left as it is', file=sys.stderr)
    entry('ir_tiny.safetensors', 'ir_tiny', layout='safetensors', dtype='float32')

    # a state dict of an architecture Facet does not build
    other = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    torch.save(other.state_dict(), os.path.join(OUT, 'other_arch.pth'))
    # a checkpoint whose pickle calls os.system when torch.load runs it (written here, never loaded)
    torch.save({'state_dict_backbone': {}, 'payload': RunsAShellCommand()}, os.path.join(OUT, 'malicious.pth'))

    with open(os.path.join(OUT, 'fixtures.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total / 1024:.0f} kB, to {OUT}')


if __name__ == '__main__':
    main()
