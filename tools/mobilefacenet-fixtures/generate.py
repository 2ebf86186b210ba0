#!/usr/bin/env python3
"""Original-MobileFaceNet fixtures (Chen et al. 2018) for @facet/onnx and @facet/interop, made by real PyTorch.

Run: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/mobilefacenet-fixtures/generate.py
Writes libs/onnx/test/fixtures/mfn_orig/ and libs/interop/test/fixtures/mfn_orig/. Deterministic (seed 2048); no
pretrained weights anywhere. `--full-size DIR` writes the same files at full width, 512-d (~4.8 MB each, not for
committing), for a manual check of the real geometry.

The network is defined here in the naming of the most common public PyTorch implementation of the paper's
MobileFaceNet (TreB1eN/InsightFace_Pytorch `model.py`): Conv_block = conv → bn → prelu, Linear_block = conv → bn,
Depth_Wise = conv (1×1 expansion) → conv_dw (k×k depthwise, stride) → project (1×1, no activation) [+ x], Residual =
`model` of Depth_Wise units; top level conv1, conv2_dw, conv_23, conv_3, conv_34, conv_4, conv_45, conv_5,
conv_6_sep, conv_6_dw (the linear 7×7 GDC), flatten, linear (no bias), bn (BatchNorm1d). That file's forward ends
in an L2 normalisation; this one returns the raw BN1d output, which is what Facet's backbones output (normalising
belongs to evaluation). Every channel count is scaled by a width multiplier round(c·w) (Facet's `width` option) so
the committed files stay small; the input stays 112×112 so that the GDC is the paper's 7×7.

BatchNorm running statistics are calibrated with train-mode forwards on random data and γ, β, PReLU slopes are
randomised, so a wrong mapping of any of them changes the output. Files:
- mfn_orig.pth: torch.save(model.state_dict()) (zip layout), TreB1eN names;
- mfn_orig_dynamic.onnx: eval, do_constant_folding=True (torch 1.13's eval peephole folds every BN that follows a
  conv into it: no BatchNormalization node remains for the 2-D BNs), opset 13, dynamic batch axis;
- mfn_orig_static1_convhead.onnx: the same weights with the head written as public files have it: the Linear and
  the BN1d as one 1×1 Conv with bias (its BN folded by the exporter), then a Reshape to [1, D]; opset 9, input
  [1, 3, 112, 112] (a static batch of 1, like faceplugin's fr_feature.onnx);
- tiny_unfolded_convhead.onnx: a second, tiny network (width 1/16, 32², 16-d) with the conv head, exported with
  training=PRESERVE and no constant folding, so every BatchNormalization node stays (the head's BN2d after its 1×1
  conv included); tiny_images.u8 / tiny_embeddings.f32 its inputs and PyTorch's outputs;
- images.u8: uint8 RGB images NHWC [N, 112, 112, 3]; embeddings.f32: PyTorch's eval-mode raw embeddings [N, D] of
  (p − 127.5)/127.5 (the two ONNX files give the same function; the test runs ONNX Runtime on them too);
- manifest.json.
"""
import json
import os
import sys

import torch
import torch.nn as nn

torch.manual_seed(2048)
torch.set_num_threads(1)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def ch(c, w):
    return max(1, round(c * w))


class Conv_block(nn.Module):
    def __init__(self, in_c, out_c, kernel=1, stride=1, padding=0, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.prelu = nn.PReLU(out_c)

    def forward(self, x):
        return self.prelu(self.bn(self.conv(x)))


class Linear_block(nn.Module):
    def __init__(self, in_c, out_c, kernel=1, stride=1, padding=0, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_c)

    def forward(self, x):
        return self.bn(self.conv(x))


class Depth_Wise(nn.Module):
    """Inverted residual bottleneck: expansion to `groups` channels, 3×3 depthwise, linear projection."""

    def __init__(self, in_c, out_c, groups, stride, residual=False):
        super().__init__()
        self.conv = Conv_block(in_c, groups, 1)
        self.conv_dw = Conv_block(groups, groups, 3, stride, 1, groups=groups)
        self.project = Linear_block(groups, out_c, 1)
        self.residual = residual

    def forward(self, x):
        y = self.project(self.conv_dw(self.conv(x)))
        return x + y if self.residual else y


class Residual(nn.Module):
    def __init__(self, c, num_block, groups):
        super().__init__()
        self.model = nn.Sequential(*[Depth_Wise(c, c, groups, 1, residual=True) for _ in range(num_block)])

    def forward(self, x):
        return self.model(x)


class MobileFaceNet(nn.Module):
    """Paper Table 1: (t, c, n, s) = (2,64,5,2), (4,128,1,2), (2,128,6,1), (4,128,1,2), (2,128,2,1)."""

    def __init__(self, width, embedding_size, side=112):
        super().__init__()
        c64, c128, c256, c512 = ch(64, width), ch(128, width), ch(256, width), ch(512, width)
        self.conv1 = Conv_block(3, c64, 3, 2, 1)
        self.conv2_dw = Conv_block(c64, c64, 3, 1, 1, groups=c64)
        self.conv_23 = Depth_Wise(c64, c64, c128, 2)
        self.conv_3 = Residual(c64, 4, c128)
        self.conv_34 = Depth_Wise(c64, c128, c256, 2)
        self.conv_4 = Residual(c128, 6, c256)
        self.conv_45 = Depth_Wise(c128, c128, c512, 2)
        self.conv_5 = Residual(c128, 2, c256)
        self.conv_6_sep = Conv_block(c128, c512, 1)
        f = side
        for _ in range(4):
            f = (f - 1) // 2 + 1
        self.conv_6_dw = Linear_block(c512, c512, f, groups=c512)
        self.conv_6_flatten = nn.Flatten()
        self.linear = nn.Linear(c512, embedding_size, bias=False)
        self.bn = nn.BatchNorm1d(embedding_size)

    def trunk(self, x):
        for m in (self.conv1, self.conv2_dw, self.conv_23, self.conv_3, self.conv_34, self.conv_4, self.conv_45, self.conv_5, self.conv_6_sep, self.conv_6_dw):
            x = m(x)
        return x

    def forward(self, x):
        return self.bn(self.linear(self.conv_6_flatten(self.trunk(x))))


class ConvHead(nn.Module):
    """The same function with the head as a 1×1 conv + BN2d + Reshape (how public exports end: conv bias, Reshape)."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        d, c = net.linear.weight.shape
        self.fc = nn.Conv2d(c, d, 1, bias=False)
        self.fc_bn = nn.BatchNorm2d(d, eps=net.bn.eps)
        with torch.no_grad():
            self.fc.weight.copy_(net.linear.weight.view(d, c, 1, 1))
            for a in ("weight", "bias", "running_mean", "running_var"):
                getattr(self.fc_bn, a).copy_(getattr(net.bn, a))

    def forward(self, x):
        return self.fc_bn(self.fc(self.net.trunk(x))).reshape(1, -1)


def randomise_and_calibrate(model, side):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.3, 0.3)
                m.momentum = None  # cumulative average over the calibration batches
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.5)
        model.train()
        for _ in range(4):
            model(torch.randn(8, 3, side, side).clamp(-1, 1))
    model.eval()


def count_op(path, op):
    """Nodes of one op type, without the onnx package: a NodeProto stores op_type as field 4 (tag 0x22, length)."""
    data = open(path, "rb").read()
    return data.count(b"\x22" + bytes([len(op)]) + op.encode())


def main():
    full = "--full-size" in sys.argv
    side = 112
    if full:
        width, emb, count = 1.0, 512, 2
        out_onnx = out_pth = sys.argv[sys.argv.index("--full-size") + 1]
    else:
        width, emb, count = 0.1875, 128, 3
        out_onnx = os.path.join(ROOT, "libs/onnx/test/fixtures/mfn_orig")
        out_pth = os.path.join(ROOT, "libs/interop/test/fixtures/mfn_orig")
    for d in {out_onnx, out_pth}:
        os.makedirs(d, exist_ok=True)
    model = MobileFaceNet(width, emb, side)
    randomise_and_calibrate(model, side)

    # smooth-ish uint8 images (a random low-resolution field upsampled, plus noise): closer to photos than white noise
    low = torch.rand(count, 3, 14, 14) * 255
    img = torch.nn.functional.interpolate(low, size=(side, side), mode="bilinear", align_corners=False)
    img = (img + torch.randn_like(img) * 12).clamp(0, 255).round().to(torch.uint8)
    x = (img.float() - 127.5) / 127.5
    with torch.no_grad():
        y = model(x)
        head = ConvHead(model).eval()
        y1 = torch.cat([head(x[i : i + 1]) for i in range(count)])
    assert (y - y1).abs().max().item() < 1e-4 * y.abs().max().item(), "conv head differs from the Linear head"

    nhwc = img.permute(0, 2, 3, 1).contiguous().numpy().tobytes()
    emb_bytes = y.numpy().astype("<f4").tobytes()
    for d in {out_onnx, out_pth}:
        open(os.path.join(d, "images.u8"), "wb").write(nhwc)
        open(os.path.join(d, "embeddings.f32"), "wb").write(emb_bytes)

    torch.save(model.state_dict(), os.path.join(out_pth, "mfn_orig.pth"))
    dyn = os.path.join(out_onnx, "mfn_orig_dynamic.onnx")
    torch.onnx.export(model, x, dyn, do_constant_folding=True, opset_version=13, input_names=["input.1"], output_names=["embedding"],
                      dynamic_axes={"input.1": {0: "batch"}, "embedding": {0: "batch"}})
    static = os.path.join(out_onnx, "mfn_orig_static1_convhead.onnx")
    torch.onnx.export(head, x[:1], static, do_constant_folding=True, opset_version=9, input_names=["input"], output_names=["output"])
    ops = {}
    for f in (dyn, static):
        ops[os.path.basename(f)] = {op: count_op(f, op) for op in ("Conv", "BatchNormalization", "PRelu", "Add", "Gemm", "MatMul", "Reshape", "Flatten")}
        # the 2-D BNs must be folded into the convs: only the dynamic file's BN1d (after the Gemm) may remain
        n_bn = ops[os.path.basename(f)]["BatchNormalization"]
        assert n_bn == (1 if f == dyn else 0), f"{f}: {n_bn} BatchNormalization nodes left"

    if not full:
        tiny = MobileFaceNet(0.0625, 16, 32)
        randomise_and_calibrate(tiny, 32)
        timg = (torch.rand(count, 3, 32, 32) * 255).round().to(torch.uint8)
        tx = (timg.float() - 127.5) / 127.5
        thead = ConvHead(tiny).eval()
        with torch.no_grad():
            ty = torch.cat([thead(tx[i : i + 1]) for i in range(count)])
            assert (ty - tiny(tx)).abs().max().item() < 1e-4 * ty.abs().max().item()
        tfile = os.path.join(out_onnx, "tiny_unfolded_convhead.onnx")
        torch.onnx.export(thead, tx[:1], tfile, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, opset_version=11,
                          input_names=["input"], output_names=["output"])
        assert count_op(tfile, "BatchNormalization") == 50, "the unfolded export must keep every BN (49 in the trunk + the head's)"
        open(os.path.join(out_onnx, "tiny_images.u8"), "wb").write(timg.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
        open(os.path.join(out_onnx, "tiny_embeddings.f32"), "wb").write(ty.numpy().astype("<f4").tobytes())

    params = sum(p.numel() for p in model.parameters())
    manifest = {
        "generator": "tools/mobilefacenet-fixtures/generate.py",
        "torch": torch.__version__,
        "width": width,
        "inputSize": side,
        "embeddingSize": emb,
        "count": count,
        "images": "images.u8",
        "embeddings": "embeddings.f32",
        "parameters": params,
        "pth": "mfn_orig.pth",
        "onnx": {"dynamic": "mfn_orig_dynamic.onnx", "static1ConvHead": "mfn_orig_static1_convhead.onnx"},
        "tiny": None if full else {"onnx": "tiny_unfolded_convhead.onnx", "width": 0.0625, "inputSize": 32, "embeddingSize": 16, "images": "tiny_images.u8", "embeddings": "tiny_embeddings.f32"},
        "onnxOps": ops,
    }
    for d in {out_onnx, out_pth}:
        with open(os.path.join(d, "manifest.json"), "w") as fh:
            json.dump(manifest, fh, indent=1)
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
