"""Resumes the way arcface_torch's train_v2.py does (resume=True, save_all_states) from the checkpoint_gpu_{rank}.pt
files Facet wrote, one rank at a time: torch.load (weights_only=True where available), backbone
load_state_dict(strict=True), Partial FC's `weight` [num_local, D], the optimizer built as train_v2.py builds it
(two param groups: backbone, Partial FC) loading state_optimizer, a scheduler loading state_lr_scheduler; and the
config .py executed (with a stand-in EasyDict when easydict is not installed). @facet/interop's tests run it when
/usr/bin/python3 has torch.

    python3 check_arcface_torch.py <dir> '<spec json>'

Prints one JSON line per rank and one for the config.
"""
import json
import os
import pickle
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arcface_models import build  # noqa: E402


def main():
    folder, spec_json = sys.argv[1:3]
    spec = json.loads(spec_json)
    ranks = sorted(int(f[len('checkpoint_gpu_'):-3]) for f in os.listdir(folder) if f.startswith('checkpoint_gpu_'))
    for rank in ranks:
        path = os.path.join(folder, f'checkpoint_gpu_{rank}.pt')
        try:
            ck = torch.load(path, map_location='cpu', weights_only=True)
            weights_only = True
        except (TypeError, pickle.UnpicklingError):
            # torch 1.13's weights-only unpickler has no BINFLOAT: the lr floats of any real optimizer state (what
            # torch.save itself writes for them) need the full unpickler there; later releases accept them
            ck = torch.load(path, map_location='cpu')
            weights_only = False
        backbone = build(spec)
        backbone.load_state_dict(ck['state_dict_backbone'], strict=True)
        pfc = torch.nn.Module()
        pfc.weight = torch.nn.Parameter(torch.zeros_like(ck['state_dict_softmax_fc']['weight']))
        pfc.load_state_dict(ck['state_dict_softmax_fc'], strict=True)
        opt = torch.optim.SGD(params=[{'params': backbone.parameters()}, {'params': pfc.parameters()}], lr=0.1, momentum=0.9, weight_decay=5e-4)
        opt.load_state_dict(ck['state_optimizer'])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1000)
        sched.load_state_dict(ck['state_lr_scheduler'])
        # one SGD step with zero gradients uses every carried momentum buffer: p <- p - lr*(mu*buf + wd*p)
        params = [p for g in opt.param_groups for p in g['params']]
        before = [p.detach().clone() for p in params]
        bufs = [opt.state[p]['momentum_buffer'].clone() if 'momentum_buffer' in opt.state[p] else None for p in params]
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
        worst = 0.0
        effect = 0.0  # how far the step would be off without the buffers
        for p, p0, buf, g in zip(params, before, bufs, [g for g in opt.param_groups for _ in g['params']]):
            if buf is None:
                continue
            want = p0 - g['lr'] * (g['momentum'] * buf + g['weight_decay'] * p0)
            worst = max(worst, float((p.detach() - want).abs().max()))
            effect = max(effect, float((g['lr'] * g['momentum'] * buf).abs().max()))
        print(json.dumps({'rank': rank, 'weights_only': weights_only, 'epoch': ck['epoch'], 'global_step': ck['global_step'],
                          'num_local': list(pfc.weight.shape), 'lr': [g['lr'] for g in opt.param_groups],
                          'momentum': opt.param_groups[0]['momentum'], 'last_epoch': sched.last_epoch,
                          'momentum_buffers': sum(b is not None for b in bufs), 'params': len(params), 'step_check': worst, 'buffer_effect': effect}))
    if 'easydict' not in sys.modules:
        try:
            import easydict  # noqa: F401
        except ImportError:
            stub = types.ModuleType('easydict')

            class EasyDict(dict):
                __getattr__ = dict.__getitem__
                __setattr__ = dict.__setitem__
            stub.EasyDict = EasyDict
            sys.modules['easydict'] = stub
    scope = {}
    with open(os.path.join(folder, 'facet_export.py')) as f:
        exec(compile(f.read(), 'facet_export.py', 'exec'), scope)
    print(json.dumps({'config': dict(scope['config'])}))


if __name__ == '__main__':
    main()
