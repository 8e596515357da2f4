"""A plain-PyTorch twin of the reference model: the same networks and the same training step,
written with no registry, no configs, no plugins and no input checks.

``benchmarks/train_step.py`` times it beside the library in the same run, so the cost of
the library's abstractions is measured rather than assumed; it also checks that both count
the same FLOPs, i.e. that the twin really is the same computation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def cba(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, norm: bool = True) -> nn.Sequential:
    pad = dilation * (k - 1) // 2
    layers = [nn.Conv2d(cin, cout, k, stride, pad, dilation, bias=not norm)]
    layers += [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)] if norm else [nn.LeakyReLU(0.2, inplace=True)]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    def __init__(self, map_channels: int, vector_channels: int, w: int, dilations=(2, 4, 8, 16)) -> None:
        super().__init__()
        enc = [w * 2, w * 4, w * 4, w * 4]
        self.encoder = nn.Sequential(
            cba(4 + map_channels, w, 5),
            cba(w, enc[0], stride=2),
            cba(enc[0], enc[1], stride=2),
            cba(enc[1], enc[2], stride=2),
            cba(enc[2], enc[3], stride=2),
            cba(enc[3], 4 * w),
        )
        mids = [cba(4 * w + vector_channels if i == 0 else 4 * w, 4 * w, dilation=d) for i, d in enumerate(dilations)]
        self.middle = nn.Sequential(*mids, cba(4 * w, 4 * w))
        up = []
        for cin, cout in [(4 * w, 4 * w), (4 * w, 4 * w), (4 * w, 2 * w), (2 * w, w)]:
            up += [nn.Upsample(scale_factor=2), cba(cin, cout)]
        self.decoder = nn.Sequential(*up, cba(w, max(w // 2, 4)), nn.Conv2d(max(w // 2, 4), 3, 3, padding=1), nn.Tanh())

    def forward(self, x: Tensor, m: Tensor, maps: list[Tensor], vectors: list[Tensor]) -> Tensor:
        f = self.encoder(torch.cat([x * (1 - m), m, *maps], 1))
        reps = [v[:, :, None, None].expand(-1, -1, *f.shape[-2:]) for v in vectors]
        return self.decoder(self.middle(torch.cat([f, *reps], 1)))


def trunk(cin: int, w: int, levels: range, k: int = 5) -> tuple[nn.Sequential, int]:
    chans = [w * min(2**i, 8) for i in levels]
    return nn.Sequential(*[cba(a, c, k, 2, norm=False) for a, c in zip([cin, *chans], chans, strict=False)]), chans[-1]


class Discriminator(nn.Module):
    def __init__(self, res: int, w: int, map_channels: int = 0, vector_channels: int = 0) -> None:
        super().__init__()
        self.trunk, c = trunk(3 + map_channels, w, range(min(64, res).bit_length() - 1))
        self.fuse = cba(c + vector_channels, c, 1, norm=False) if vector_channels else None
        self.head = nn.Linear(c * (res // min(64, res)) ** 2, 1)

    def forward(self, x: Tensor, cond: Tensor | None = None, pairing: Tensor | None = None) -> Tensor:
        if cond is not None and cond.ndim == 4:
            x = torch.cat([x[pairing] if pairing is not None else x, cond], 1)
        f = self.trunk(x)
        if self.fuse is not None:
            f = f[pairing] if pairing is not None else f
            f = self.fuse(torch.cat([f, cond[:, :, None, None].expand(-1, -1, *f.shape[-2:])], 1))
        return self.head(f.flatten(1)).squeeze(1)


class SharedDiscriminator(nn.Module):
    """One trunk: a realness head, a projection head for the vector, a map joined at 8 x 8."""

    def __init__(self, res: int, w: int, map_channels: int, vector_channels: int) -> None:
        super().__init__()
        levels, join = min(64, res).bit_length() - 1, res.bit_length() - 1 - 3
        size = res // min(64, res)
        self.stem, cs = trunk(3, w, range(join))
        self.tail, c = trunk(cs, w, range(join, levels))
        self.head, self.vector_head = nn.Linear(c * size**2, 1), nn.Linear(c * size**2, 1)
        self.projection = nn.Linear(vector_channels, c, bias=False)
        self.map_tail, cm = trunk(cs + map_channels, w, range(join, levels), k=3)
        self.map_head = nn.Linear(cm * size**2, 1)

    def forward(self, x: Tensor, vec: Tensor, seg: Tensor, pairing: Tensor | None = None) -> tuple[Tensor, ...]:
        s = self.stem(x)
        f = self.tail(s)
        fp = f[pairing] if pairing is not None else f
        a = self.vector_head(fp.flatten(1))[:, 0] + (self.projection(vec) * fp.sum((2, 3))).sum(1)
        # the map tail's first conv over [s | seg], split: its s part once per image, indexed by pairing
        conv, rest = self.map_tail[0][0], [*self.map_tail[0][1:], *self.map_tail[1:]]
        ws, wm = conv.weight.split([s.shape[1], conv.in_channels - s.shape[1]], 1)
        j = F.conv2d(s, ws, conv.bias, conv.stride, conv.padding)
        j = (j[pairing] if pairing is not None else j) + F.conv2d(
            F.adaptive_avg_pool2d(seg, s.shape[-2:]), wm, None, conv.stride, conv.padding
        )
        m = self.map_head(nn.Sequential(*rest)(j).flatten(1))
        return self.head(f.flatten(1))[:, 0], a, m[:, 0]


def attribute_net(n: int, w: int) -> nn.Module:
    return nn.Sequential(
        cba(3, w), cba(w, w, stride=2), cba(w, 2 * w, stride=2),
        cba(2 * w, 4 * w, stride=2), cba(4 * w, 4 * w, stride=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(4 * w, n),
    )  # fmt: skip


class UNet(nn.Module):
    def __init__(self, c: int, w: int, depth: int) -> None:
        super().__init__()
        ch = [w * 2 ** min(i, 3) for i in range(depth + 1)]
        self.down = nn.ModuleList(nn.Sequential(cba(a, b), cba(b, b)) for a, b in zip([3, *ch], ch, strict=False))
        self.up = nn.ModuleList(
            nn.Sequential(cba(ch[i + 1] + ch[i], ch[i]), cba(ch[i], ch[i])) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(ch[0], c, 1)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(F.max_pool2d(x, 2) if i else x)
            skips.append(x)
        skips.pop()
        for block in self.up:
            s = skips.pop()
            x = block(torch.cat([F.interpolate(x, size=s.shape[-2:]), s], 1))
        return self.head(x)


class TwinGAN(nn.Module):
    """The boosted GAN (with attribute + segmentation conditions, or none) in plain PyTorch;
    ``shared``: one shared-trunk discriminator instead of three."""

    def __init__(self, res: int, w: int, conditions: bool, shared: bool = False, n_attr: int = 18, n_cls: int = 10):
        super().__init__()
        self.conditions, self.shared = conditions, shared
        self.attribute = attribute_net(n_attr, 32).eval().requires_grad_(False) if conditions else None
        self.segmentation = UNet(n_cls, 16, 3).eval().requires_grad_(False) if conditions else None
        self.g = Generator(n_cls if conditions else 0, n_attr if conditions else 0, w)
        separate = conditions and not shared
        self.dg = SharedDiscriminator(res, w, n_cls, n_attr) if shared else Discriminator(res, w)
        self.da = Discriminator(res, w, vector_channels=n_attr) if separate else None
        self.ds = Discriminator(res, w, map_channels=n_cls) if separate else None

    def train(self, mode: bool = True) -> TwinGAN:
        super().train(mode)
        for embedder in (self.attribute, self.segmentation):
            if embedder is not None:
                embedder.eval()  # frozen, as the library's
        return self

    def embed(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        if not self.conditions:
            return [], []
        return [self.segmentation(x).softmax(1)], [self.attribute(x).sigmoid()]

    def judge(self, x: Tensor, vec: Tensor | None, seg: Tensor | None, pairing: Tensor | None) -> list[Tensor]:
        """Realness logits of ``x``, then attribute and part-map logits of ``x[pairing]``."""
        if self.shared:
            return list(self.dg(x, vec, seg, pairing))
        if not self.conditions:
            return [self.dg(x)]
        return [self.dg(x), self.da(x, vec, pairing), self.ds(x, seg, pairing)]


def twin_step(model: TwinGAN, opt_g, opt_d, y: Tensor, m: Tensor, beta: float = 0.01, lam: float = 0.1) -> None:
    """One D step then one G step, the same computation as the library's ``Trainer.train_step``."""
    b = y.shape[0]
    with torch.no_grad():
        maps_both, vecs_both = model.embed(torch.cat([y * (1 - m), y]))
    maps_in, maps = [t[:b] for t in maps_both], [t[b:] for t in maps_both]
    vecs_in, vecs = [t[:b] for t in vecs_both], [t[b:] for t in vecs_both]
    z = model.g(y, m, maps_in, vecs_in)
    fake = torch.where(m.bool(), z, y)
    pairing = torch.cat([torch.arange(2 * b, device=y.device), torch.arange(b, device=y.device)])
    if model.conditions:
        vec = torch.cat([vecs[0], vecs[0], vecs[0].roll(1, 0)])
        seg = torch.cat([maps[0], maps[0], maps[0].roll(1, 0)])
        realness, *matching = model.judge(torch.cat([y, fake.detach()]), vec, seg, pairing)
    else:
        realness, matching = model.judge(torch.cat([y, fake.detach()]), None, None, None)[0], []
    r, f = realness.chunk(2)
    loss_d = F.softplus(-r).mean() + F.softplus(f).mean()
    for logits in matching:
        a, b_, c = logits.chunk(3)
        loss_d = loss_d + lam * (F.softplus(-a).mean() + F.softplus(b_).mean() + F.softplus(c).mean())
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    discriminators = [d for d in (model.dg, model.da, model.ds) if d is not None]
    for d in discriminators:
        d.requires_grad_(False)
    realness, *matching = model.judge(fake, vecs[0] if vecs else None, maps[0] if maps else None, None)
    adv = F.softplus(-realness).mean() + sum(lam * F.softplus(-logits).mean() for logits in matching)
    loss_g = F.mse_loss(z, y) + beta * adv
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    for d in discriminators:
        d.requires_grad_(True)
