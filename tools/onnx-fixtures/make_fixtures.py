#!/usr/bin/env python3
"""ONNX fixtures for @facet/onnx, made by real PyTorch (Debian python3-torch 1.13).

Run: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/onnx-fixtures/make_fixtures.py [out_dir]
(default out_dir: libs/onnx/test/fixtures). Deterministic (seed 2048); no pretrained weights anywhere.
`make_fixtures.py --full-size DIR` writes full-size IResNet-18 / get_mbf files (112², 512-d, ~100 MB, not for
committing) for `node tools/onnx-fixtures/check_full_size.mjs DIR`.

Modules follow insightface recognition/arcface_torch/backbones (iresnet.py, mobilefacenet.py) layer for layer and
name for name, with every channel count scaled by a width multiplier round(c·w) (as Facet's `width` option) so that
the committed files stay small. BatchNorm running statistics are calibrated with a few train-mode forwards and
γ, β, PReLU slopes are randomised, so that a wrong mapping of any of them changes the output.

Each network is exported twice, as torch.onnx.export writes it in torch 1.13:
- folded: model.eval(), training=EVAL (default), do_constant_folding=True: the exporter's eval peephole fuses
  every BatchNorm that follows a Conv into the Conv (weight·γ/√(σ²+ε), bias β−μγ/√(σ²+ε)); BNs after anything else
  (IResNet's block-leading bn1, bn2 before the flatten, the BN1d after the Linear) stay. This is torch2onnx.py's form
  and insightface's model-zoo form.
- unfolded: model.eval(), training=TrainingMode.PRESERVE, do_constant_folding=False: the eval peephole only runs
  for TrainingMode.EVAL, so every BatchNormalization node stays, with the running statistics as initializers.
Folded files use opset 13, unfolded ones opset 11 (Unsqueeze axes as an attribute, as in older files).
Dynamic batch axis on input and output. Plus a graph of another architecture (ReLU CNN with a max-pool and global
average pooling) with a static batch of 1, which is not an IResNet/MobileFaceNet but runs in ONNX Runtime.

Outputs: <name>.onnx, inputs.bin (float32 NCHW [3, 3, S, S], values in [-1, 1]), <name>.out.bin (PyTorch's eval
output, float32 [3, D]; the other-architecture one for input 0 only, [1, D]), manifest.json.
"""
import json
import os
import sys

import torch
import torch.nn as nn

torch.manual_seed(2048)
torch.set_num_threads(1)


def ch(c, w):
    return max(1, round(c * w))


# ------------------------------------------------------------------------------------------ IResNet (iresnet.py)
class IBasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-05)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-05)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-05)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.bn1(x)
        out = self.conv1(out)
        out = self.bn2(out)
        out = self.prelu(out)
        out = self.conv2(out)
        out = self.bn3(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return out + identity


class IResNet(nn.Module):
    def __init__(self, layers, width, size, num_features):
        super().__init__()
        self.inplanes = ch(64, width)
        self.conv1 = nn.Conv2d(3, self.inplanes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes, eps=1e-05)
        self.prelu = nn.PReLU(self.inplanes)
        self.layer1 = self._make_layer(ch(64, width), layers[0])
        self.layer2 = self._make_layer(ch(128, width), layers[1])
        self.layer3 = self._make_layer(ch(256, width), layers[2])
        self.layer4 = self._make_layer(ch(512, width), layers[3])
        c = ch(512, width)
        self.bn2 = nn.BatchNorm2d(c, eps=1e-05)
        self.dropout = nn.Dropout(p=0, inplace=True)
        side = size
        for _ in range(4):
            side = (side + 2 - 3) // 2 + 1
        self.fc = nn.Linear(c * side * side, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)

    def _make_layer(self, planes, blocks, stride=2):
        downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes, eps=1e-05))
        layers = [IBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [IBasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.bn2(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        return self.features(x)


# ------------------------------------------------------------------------------ MobileFaceNet (mobilefacenet.py)
class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


class ConvBlock(nn.Module):
    def __init__(self, in_c, out_c, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups=1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, groups=groups, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(num_features=out_c),
            nn.PReLU(num_parameters=out_c),
        )

    def forward(self, x):
        return self.layers(x)


class LinearBlock(nn.Module):
    def __init__(self, in_c, out_c, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups=1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(num_features=out_c)
        )

    def forward(self, x):
        return self.layers(x)


class DepthWise(nn.Module):
    def __init__(self, in_c, out_c, residual=False, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=1):
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_c, out_c=groups, kernel=(1, 1), padding=(0, 0), stride=(1, 1)),
            ConvBlock(groups, groups, groups=groups, kernel=kernel, padding=padding, stride=stride),
            LinearBlock(groups, out_c, kernel=(1, 1), padding=(0, 0), stride=(1, 1)),
        )

    def forward(self, x):
        short_cut = x if self.residual else None
        x = self.layers(x)
        return short_cut + x if self.residual else x


class Residual(nn.Module):
    def __init__(self, c, num_block, groups, kernel=(3, 3), stride=(1, 1), padding=(1, 1)):
        super().__init__()
        self.layers = nn.Sequential(*[DepthWise(c, c, True, kernel, stride, padding, groups) for _ in range(num_block)])

    def forward(self, x):
        return self.layers(x)


class GDC(nn.Module):
    def __init__(self, c, side, embedding_size):
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(c, c, groups=c, kernel=(side, side), stride=(1, 1), padding=(0, 0)),
            Flatten(),
            nn.Linear(c, embedding_size, bias=False),
            nn.BatchNorm1d(embedding_size),
        )

    def forward(self, x):
        return self.layers(x)


class MobileFaceNet(nn.Module):
    """get_mbf(blocks, scale=2) with channels scaled by width (64·scale → round(64w)·scale, 512 → round(512w))."""

    def __init__(self, width, size, num_features, blocks=(1, 4, 6, 2), scale=2):
        super().__init__()
        u = ch(64, width)
        e128, e256, e512 = ch(128, width), ch(256, width), ch(512, width)
        self.layers = nn.ModuleList()
        self.layers.append(ConvBlock(3, u * scale, kernel=(3, 3), stride=(2, 2), padding=(1, 1)))
        if blocks[0] == 1:
            self.layers.append(ConvBlock(u * scale, u * scale, kernel=(3, 3), stride=(1, 1), padding=(1, 1), groups=u))
        else:
            self.layers.append(Residual(u * scale, num_block=blocks[0], groups=e128))
        self.layers.extend([
            DepthWise(u * scale, u * scale, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e128),
            Residual(u * scale, num_block=blocks[1], groups=e128),
            DepthWise(u * scale, 2 * u * scale, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e256),
            Residual(2 * u * scale, num_block=blocks[2], groups=e256),
            DepthWise(2 * u * scale, 2 * u * scale, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e512),
            Residual(2 * u * scale, num_block=blocks[3], groups=e256),
        ])
        self.conv_sep = ConvBlock(2 * u * scale, e512, kernel=(1, 1), stride=(1, 1), padding=(0, 0))
        side = size
        for _ in range(4):
            side = (side + 2 - 3) // 2 + 1
        self.features = GDC(e512, side, num_features)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        for func in self.layers:
            x = func(x)
        return self.features(self.conv_sep(x))


# ----------------------------------------------------------------------------------- another architecture
class PlainCNN(nn.Module):
    """Not an IResNet/MobileFaceNet: conv → ReLU → max-pool → conv → ReLU → global average pool → Linear."""

    def __init__(self, num_features):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, 2, 1)
        self.fc = nn.Linear(16, num_features)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x)).mean(dim=(2, 3))
        return self.fc(x)


def randomise_and_calibrate(model, size):
    """Random BN affine parameters and PReLU slopes, then running statistics from train-mode forwards."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                if m.weight.requires_grad:
                    m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.3, 0.3)
                m.momentum = None  # cumulative average over the calibration batches
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.5)
        model.train()
        for _ in range(6):
            model(torch.randn(16, 3, size, size).clamp(-1, 1))
    model.eval()


def export(model, x, path, folded, input_name):
    kwargs = dict(
        # folded files at opset 13, unfolded at 11 (the model zoo's opset: Unsqueeze/Squeeze take axes as attributes)
        opset_version=13 if folded else 11,
        input_names=[input_name],
        output_names=["embedding"],
        dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
    )
    if folded:
        torch.onnx.export(model, x, path, do_constant_folding=True, **kwargs)
    else:
        torch.onnx.export(model, x, path, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, **kwargs)


def full_size(out):
    """Full-size IResNet-18 and get_mbf (112², 512-d, BN folded), for check_full_size.mjs; ~100 MB, never committed."""
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    x = torch.randn(2, 3, 112, 112).clamp(-1, 1)
    x.numpy().astype("<f4").tofile(os.path.join(out, "inputs.bin"))
    for name, model in [("r18", IResNet((2, 2, 2, 2), 1.0, 112, 512)), ("mbf", MobileFaceNet(1.0, 112, 512))]:
        randomise_and_calibrate(model, 112)
        with torch.no_grad():
            model(x).numpy().astype("<f4").tofile(os.path.join(out, f"{name}.out.bin"))
        export(model, x, os.path.join(out, f"{name}.onnx"), True, "input.1")
        print(name, sum(p.numel() for p in model.parameters()), "parameters")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--full-size":
        return full_size(sys.argv[2])
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "libs", "onnx", "test", "fixtures")
    os.makedirs(out, exist_ok=True)
    size = 32
    x = torch.randn(3, 3, size, size).clamp(-1, 1)
    x.numpy().astype("<f4").tofile(os.path.join(out, "inputs.bin"))
    manifest = {"torch": torch.__version__, "inputSize": size, "inputs": "inputs.bin", "inputShape": [3, 3, size, size], "models": []}
    nets = {
        # Facet: createBackbone('iresnet18', { width: 0.0625, inputSize: 32, blocks: [1, 2, 1, 1], embeddingSize: 32 })
        "iresnet": (IResNet((1, 2, 1, 1), 0.0625, size, 32), {"network": "iresnet", "width": 0.0625, "blocks": [1, 2, 1, 1], "embeddingSize": 32}),
        # Facet: createBackbone('mobilefacenet', { width: 0.0625, inputSize: 32, blocks: [1, 2, 2, 1], embeddingSize: 32 })
        "mbf": (MobileFaceNet(0.0625, size, 32, blocks=(1, 2, 2, 1)), {"network": "mobilefacenet", "width": 0.0625, "blocks": [1, 2, 2, 1], "embeddingSize": 32}),
    }
    for name, (model, facet) in nets.items():
        randomise_and_calibrate(model, size)
        with torch.no_grad():
            y = model(x)
        y.numpy().astype("<f4").tofile(os.path.join(out, f"{name}.out.bin"))
        for folded in (True, False):
            file = f"{name}_{'folded' if folded else 'unfolded'}.onnx"
            export(model, x, os.path.join(out, file), folded, "input.1" if folded else "data")
            manifest["models"].append({"file": file, "output": f"{name}.out.bin", "outputShape": list(y.shape), "folded": folded, "facet": facet})
    other = PlainCNN(16).eval()
    with torch.no_grad():
        y = other(x[:1])
    y.numpy().astype("<f4").tofile(os.path.join(out, "plain_cnn.out.bin"))
    # static batch of 1 (no dynamic_axes), as some exports are
    torch.onnx.export(other, x[:1], os.path.join(out, "plain_cnn.onnx"), opset_version=13, input_names=["input.1"], output_names=["out"])
    manifest["models"].append({"file": "plain_cnn.onnx", "output": "plain_cnn.out.bin", "outputShape": list(y.shape), "folded": True, "facet": None})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    for m in manifest["models"]:
        print(m["file"], os.path.getsize(os.path.join(out, m["file"])), "bytes")


if __name__ == "__main__":
    main()
