#!/usr/bin/env python3
"""PyTorch CPU peer for Facet's benchmarks (tools/bench/src/peers.ts drives it).

A long-lived process: it reads one JSON command per line on stdin and answers one JSON object per line on stdout,
so the bench can interleave Facet and PyTorch repeats (the machine is shared: measuring one after the other would
let a change in load bias the ratio). Models stay resident between commands.

The networks follow insightface recognition/arcface_torch (backbones/iresnet.py, backbones/mobilefacenet.py) as
specified in Facet's notes: IResNet (BN-conv-BN-PReLU-conv-BN basic blocks, every stage stride 2, BN2d-flatten-
Linear-BN1d head with the BN1d weight frozen) and MobileFaceNet (get_mbf(blocks=(1,4,6,2), scale=2)). The head is
ArcFace (s=64, m=0.5: cos(theta + m) on the target column) over normalised class centres, trained with SGD
(lr 0.1, momentum 0.9, weight decay 5e-4) as train_v2.py does. Partial FC steps follow insightface's v1 semantics
(only sampled rows and their momentum are updated), like Facet's @facet/partial-fc.

Commands (field "cmd"): info, threads {n}, model {name, batch, classes, train}, forward, train_step,
profile_train {top}, head {C, D, B, rate}, head_step, free, quit.
"""
import gc
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------------- backbones
class IBasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # stride on the second conv
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        self.downsample = (
            nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes, eps=1e-5))
            if downsample
            else None
        )

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class IResNet(nn.Module):
    def __init__(self, layers, num_features=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        stages = []
        inplanes = 64
        for planes, n in zip((64, 128, 256, 512), layers):
            blocks = [IBasicBlock(inplanes, planes, 2, True)]
            blocks += [IBasicBlock(planes, planes, 1, False) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            inplanes = planes
        self.layers = nn.Sequential(*stages)
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.fc = nn.Linear(512 * 7 * 7, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)

    def forward(self, x):
        x = self.layers(self.prelu(self.bn1(self.conv1(x))))
        return self.features(self.fc(torch.flatten(self.bn2(x), 1)))


class ConvBlock(nn.Sequential):
    def __init__(self, cin, cout, k=1, s=1, p=0, groups=1, act=True):
        mods = [nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        if act:
            mods.append(nn.PReLU(cout))
        super().__init__(*mods)


class DepthWise(nn.Module):
    def __init__(self, cin, cout, residual, k=3, s=2, p=1, groups=1):
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(
            ConvBlock(cin, groups), ConvBlock(groups, groups, k, s, p, groups=groups), ConvBlock(groups, cout, act=False)
        )

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def residual(c, n, g):
    return nn.Sequential(*[DepthWise(c, c, True, 3, 1, 1, g) for _ in range(n)])


class MobileFaceNet(nn.Module):
    def __init__(self, num_features=512, blocks=(1, 4, 6, 2), scale=2):
        super().__init__()
        s = scale
        layers = [ConvBlock(3, 64 * s, 3, 2, 1)]
        if blocks[0] == 1:
            layers.append(ConvBlock(64 * s, 64 * s, 3, 1, 1, groups=64))
        layers += [
            DepthWise(64 * s, 64 * s, False, 3, 2, 1, 128),
            residual(64 * s, blocks[1], 128),
            DepthWise(64 * s, 128 * s, False, 3, 2, 1, 256),
            residual(128 * s, blocks[2], 256),
            DepthWise(128 * s, 128 * s, False, 3, 2, 1, 512),
            residual(128 * s, blocks[3], 256),
        ]
        self.layers = nn.Sequential(*layers)
        self.conv_sep = ConvBlock(128 * s, 512)
        # GDC: 7x7 depthwise (no padding) -> flatten -> Linear -> BatchNorm1d
        self.gdc = ConvBlock(512, 512, 7, 1, 0, groups=512, act=False)
        self.linear = nn.Linear(512, num_features, bias=False)
        self.bn = nn.BatchNorm1d(num_features)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.gdc(self.conv_sep(self.layers(x)))
        return self.bn(self.linear(torch.flatten(x, 1)))


def build(name):
    if name == "iresnet18":
        return IResNet((2, 2, 2, 2))
    if name == "iresnet50":
        return IResNet((3, 4, 14, 3))
    if name == "mobilefacenet":
        return MobileFaceNet()
    raise ValueError(f"unknown model {name}")


# --------------------------------------------------------------------------------------------------- ArcFace
S, M = 64.0, 0.5


def arcface_loss(emb, weight, labels):
    """CombinedMarginLoss(64, 1, 0.5, 0): cos(theta + m) on the target column, times s, cross-entropy."""
    cos = F.linear(F.normalize(emb), F.normalize(weight)).clamp(-1, 1)
    idx = torch.arange(cos.shape[0])
    target = cos[idx, labels]
    with_margin = torch.cos(torch.acos(target) + M)
    logits = cos.clone()
    logits[idx, labels] = with_margin
    return F.cross_entropy(logits * S, labels)


# --------------------------------------------------------------------------------------------------- state
state = {}


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def blas_info():
    cfg = torch.__config__.show()
    keys = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP", "CPU capability")
    lines = [l.strip() for l in cfg.splitlines() if any(k in l for k in keys)]
    return "; ".join(lines)


def loaded_blas():
    """Which BLAS shared object the process actually mapped (Debian's alternatives decide)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {l.split()[-1] for l in f if "blas" in l.lower() or "mkl" in l.lower()}
        return sorted(os.path.realpath(p) for p in libs if p.startswith("/"))
    except OSError:
        return []


def cmd_info(_):
    # exercise a matmul so that the BLAS library is loaded before we look at the mappings
    a = torch.randn(256, 256)
    _ = a @ a
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "blas": blas_info(),
        "loadedBlas": loaded_blas(),
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }


def cmd_threads(c):
    torch.set_num_threads(int(c["n"]))
    return {"threads": torch.get_num_threads()}


def cmd_model(c):
    state.pop("model", None)
    gc.collect()
    torch.manual_seed(7)
    model = build(c["name"])
    batch = int(c["batch"])
    x = torch.randn(batch, 3, 112, 112).clamp(-1, 1)
    entry = {"net": model, "x": x, "batch": batch}
    if c.get("train"):
        classes = int(c.get("classes", 1000))
        head = nn.Parameter(torch.randn(classes, 512) * 0.01)
        params = [p for p in model.parameters() if p.requires_grad] + [head]
        entry.update(
            head=head,
            labels=torch.randint(0, classes, (batch,)),
            opt=torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4),
        )
        model.train()
    else:
        model.eval()
    state["model"] = entry
    return {"parameters": sum(p.numel() for p in model.parameters())}


def cmd_forward(_):
    e = state["model"]

    def run():
        with torch.inference_mode():
            e["net"](e["x"])

    return {"seconds": timed(run)}


def train_step(e):
    e["opt"].zero_grad(set_to_none=True)
    loss = arcface_loss(e["net"](e["x"]), e["head"], e["labels"])
    loss.backward()
    e["opt"].step()
    return loss


def cmd_train_step(_):
    e = state["model"]
    return {"seconds": timed(lambda: train_step(e))}


def cmd_profile_train(c):
    e = state["model"]
    with torch.autograd.profiler.profile() as prof:
        train_step(e)
    rows = []
    total = 0.0
    for ev in prof.key_averages():
        total += ev.self_cpu_time_total
        rows.append((ev.key, ev.self_cpu_time_total / 1e6, ev.count))
    rows.sort(key=lambda r: -r[1])
    top = int(c.get("top", 10))
    return {"totalSeconds": total / 1e6, "ops": [{"op": k, "seconds": s, "calls": n} for k, s, n in rows[:top]]}


def cmd_head(c):
    state.pop("head", None)
    gc.collect()
    C, D, B, rate = int(c["C"]), int(c["D"]), int(c["B"]), float(c["rate"])
    g = torch.Generator().manual_seed(3)
    weight = torch.empty(C, D).normal_(0, 0.01, generator=g)
    state["head"] = {
        "C": C,
        "B": B,
        "rate": rate,
        "weight": weight,
        "mom": torch.zeros(C, D),
        "x": torch.randn(B, D, generator=g, requires_grad=True),
        "gen": g,
    }
    return {"bytes": 2 * C * D * 4}


def cmd_head_step(_):
    h = state["head"]
    C, B, rate = h["C"], h["B"], h["rate"]

    def run():
        labels = torch.randint(0, C, (B,), generator=h["gen"])
        num = int(rate * C)
        if rate < 1:
            # insightface sample(): positives forced in via perm[positive] = 2, then topk; sorted indices
            perm = torch.rand(C, generator=h["gen"])
            perm[labels] = 2.0
            index = torch.topk(perm, k=max(num, int(labels.unique().numel())))[1].sort()[0]
            local = torch.searchsorted(index, labels)
            w = h["weight"][index].requires_grad_(True)
        else:
            index, local = None, labels
            w = h["weight"].requires_grad_(True)
        h["x"].grad = None
        loss = arcface_loss(h["x"], w, local)
        loss.backward()
        with torch.no_grad():
            grad = w.grad
            if index is None:
                h["weight"].requires_grad_(False)
                h["mom"].mul_(0.9).add_(grad).add_(h["weight"], alpha=5e-4)
                h["weight"].sub_(h["mom"], alpha=0.1)
                h["weight"].grad = None
            else:
                # v1 semantics: only the sampled rows and their momentum move
                rows = h["weight"][index]
                mom = h["mom"][index].mul_(0.9).add_(grad).add_(rows, alpha=5e-4)
                h["mom"][index] = mom
                h["weight"][index] = rows - 0.1 * mom

    return {"seconds": timed(run)}


def cmd_free(_):
    state.clear()
    gc.collect()
    return {}


COMMANDS = {
    "info": cmd_info,
    "threads": cmd_threads,
    "model": cmd_model,
    "forward": cmd_forward,
    "train_step": cmd_train_step,
    "profile_train": cmd_profile_train,
    "head": cmd_head,
    "head_step": cmd_head_step,
    "free": cmd_free,
}


def main():
    torch.set_grad_enabled(True)
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        if c.get("cmd") == "quit":
            break
        try:
            out = COMMANDS[c["cmd"]](c)
            out["ok"] = True
        except Exception as ex:  # report, keep serving
            out = {"ok": False, "error": f"{type(ex).__name__}: {ex}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
