"""Reads a file Facet exported the way insightface would: torch.load (weights_only=True where this torch has it,
so only the allow-listed globals may appear), then `model.load_state_dict(sd, strict=True)` into the arcface_torch
module, then PyTorch's eval-mode embeddings of the given images. @facet/interop's tests run it when /usr/bin/python3
has torch.

    python3 check_export.py <file.pth|file.safetensors> '<spec json>' <images.u8> <count> <out.f32>

Prints one JSON line: {"keys": n, "weights_only": bool, "missing": [], "unexpected": []}.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arcface_models import build  # noqa: E402


def main():
    path, spec_json, images, count, out = sys.argv[1:6]
    spec = json.loads(spec_json)
    weights_only = False
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        sd = load_file(path)
    else:
        try:
            sd = torch.load(path, map_location='cpu', weights_only=True)
            weights_only = True
        except TypeError:  # a torch without weights_only
            sd = torch.load(path, map_location='cpu')
    model = build(spec)
    result = model.load_state_dict(sd, strict=True)
    model.eval()
    s = spec['input_size']
    x = np.fromfile(images, dtype=np.uint8).reshape(int(count), s, s, 3).astype(np.float32)
    x = (torch.from_numpy(x).permute(0, 3, 1, 2).contiguous() - 127.5) / 127.5
    with torch.no_grad():
        emb = model(x).numpy().astype('<f4')
    emb.tofile(out)
    nbt = sorted({int(v) for k, v in sd.items() if k.endswith('num_batches_tracked')})
    print(json.dumps({'keys': len(sd), 'weights_only': weights_only, 'missing': list(result.missing_keys),
                      'unexpected': list(result.unexpected_keys), 'num_batches_tracked': nbt,
                      'dtypes': sorted({str(v.dtype) for v in sd.values()})}))


if __name__ == '__main__':
    main()
