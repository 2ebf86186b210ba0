"""insightface arcface_torch backbones (recognition/arcface_torch/backbones/iresnet.py and mobilefacenet.py),
written again from their architecture so the fixtures come from real PyTorch modules with insightface's parameter
names. Two additions, both identity at insightface's values: a channel multiplier `width` (every layer width becomes
max(1, round(c * width)), Facet's `width` option) so test files stay small, and `input_size` for IResNet's fc
in-features (insightface hard-codes fc_scale = 7 * 7, i.e. 112x112 input).
"""
import torch
from torch import nn


def scale(c, width):
    return max(1, int(round(c * width)))


# ---------------------------------------------------------------- IResNet
class IBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-05)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-05)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-05)
        self.downsample = downsample
        self.stride = stride

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
        out += identity
        return out


class IResNet(nn.Module):
    def __init__(self, layers, dropout=0, num_features=512, width=1.0, input_size=112):
        super().__init__()
        self.inplanes = scale(64, width)
        self.conv1 = nn.Conv2d(3, self.inplanes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes, eps=1e-05)
        self.prelu = nn.PReLU(self.inplanes)
        self.layer1 = self._make_layer(scale(64, width), layers[0], stride=2)
        self.layer2 = self._make_layer(scale(128, width), layers[1], stride=2)
        self.layer3 = self._make_layer(scale(256, width), layers[2], stride=2)
        self.layer4 = self._make_layer(scale(512, width), layers[3], stride=2)
        side = input_size
        for _ in range(4):
            side = (side + 2 - 3) // 2 + 1
        self.bn2 = nn.BatchNorm2d(self.inplanes, eps=1e-05)
        self.dropout = nn.Dropout(p=dropout, inplace=True)
        self.fc = nn.Linear(self.inplanes * side * side, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes, eps=1e-05),
            )
        layers = [IBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(IBasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.prelu(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.bn2(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x.float())
        x = self.features(x)
        return x


IRESNET_BLOCKS = {'r18': [2, 2, 2, 2], 'r34': [3, 4, 6, 3], 'r50': [3, 4, 14, 3], 'r100': [3, 13, 30, 3], 'r200': [6, 26, 60, 6]}


# ---------------------------------------------------------------- MobileFaceNet (get_mbf)
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
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(num_features=out_c),
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
    def __init__(self, channels, embedding_size, kernel):
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(channels, channels, groups=channels, kernel=(kernel, kernel), stride=(1, 1), padding=(0, 0)),
            Flatten(),
            nn.Linear(channels, embedding_size, bias=False),
            nn.BatchNorm1d(embedding_size),
        )

    def forward(self, x):
        return self.layers(x)


class MobileFaceNet(nn.Module):
    def __init__(self, num_features=512, blocks=(1, 4, 6, 2), scale_=2, width=1.0, input_size=112):
        super().__init__()
        unit = scale(64, width)
        e128, e256, e512 = scale(128, width), scale(256, width), scale(512, width)
        c1, c2 = unit * scale_, 2 * unit * scale_
        self.layers = nn.ModuleList()
        self.layers.append(ConvBlock(3, c1, kernel=(3, 3), stride=(2, 2), padding=(1, 1)))
        if blocks[0] == 1:
            # insightface: groups=64 on 64*scale channels (a grouped conv, not a depthwise one)
            self.layers.append(ConvBlock(c1, c1, kernel=(3, 3), stride=(1, 1), padding=(1, 1), groups=unit))
        else:
            self.layers.append(Residual(c1, num_block=blocks[0], groups=e128))
        self.layers.extend([
            DepthWise(c1, c1, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e128),
            Residual(c1, num_block=blocks[1], groups=e128),
            DepthWise(c1, c2, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e256),
            Residual(c2, num_block=blocks[2], groups=e256),
            DepthWise(c2, c2, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=e512),
            Residual(c2, num_block=blocks[3], groups=e256),
        ])
        sep = scale(512, width)
        self.conv_sep = ConvBlock(c2, sep, kernel=(1, 1), stride=(1, 1), padding=(0, 0))
        side = input_size
        for _ in range(4):
            side = (side + 2 - 3) // 2 + 1
        self.features = GDC(sep, num_features, side)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x):
        for func in self.layers:
            x = func(x)
        x = self.conv_sep(x)
        x = self.features(x)
        return x


# ---------------------------------------------------------------- ViT (arcface_torch/backbones/vit.py)
class VitMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.ReLU6()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class VitAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, l, d = x.shape
        qkv = self.qkv(x).reshape(b, l, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, l, d))


class VitBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = VitAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = VitMlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """Eval-mode forward of insightface's ViT (no token masking, no drop-path outside training)."""

    def __init__(self, input_size=112, patch=9, dim=256, depth=12, num_heads=8, num_features=512):
        super().__init__()
        self.patch_embed = PatchEmbed(patch, dim)
        tokens = (input_size // patch) ** 2
        self.tokens, self.dim = tokens, dim
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.ModuleList([VitBlock(dim, num_heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.feature = nn.Sequential(
            nn.Linear(dim * tokens, dim, bias=False),
            nn.BatchNorm1d(dim, eps=2e-5),
            nn.Linear(dim, num_features, bias=False),
            nn.BatchNorm1d(num_features, eps=2e-5),
        )
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(self, x):
        b = x.shape[0]
        x = self.patch_embed(x) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.feature(torch.reshape(x, (b, self.tokens * self.dim)))


def build(spec):
    """A module from a fixture spec: {family, blocks, width, input_size, embedding_size}."""
    if spec['family'] == 'iresnet':
        return IResNet(spec['blocks'], num_features=spec['embedding_size'], width=spec['width'], input_size=spec['input_size'])
    if spec['family'] == 'mobilefacenet':
        # scale 1: the original MobileFaceNet (Facet's mobilefacenet_orig); insightface's mbf is scale 2
        return MobileFaceNet(num_features=spec['embedding_size'], blocks=spec['blocks'], scale_=spec.get('scale', 2), width=spec['width'], input_size=spec['input_size'])
    if spec['family'] == 'vit':
        return VisionTransformer(input_size=spec['input_size'], patch=spec['patch'], dim=spec['dim'], depth=spec['depth'],
                                 num_heads=spec['heads'], num_features=spec['embedding_size'])
    raise ValueError(spec['family'])
