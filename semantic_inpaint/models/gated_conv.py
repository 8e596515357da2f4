"""Gated convolution (Yu et al. 2019, DeepFill v2): a convolution that learns where to look.

One convolution produces ``2·C`` channels: features and a gate, ``out = act(features)·σ(gate)``.
The soft gate generalises partial convolution's hard valid mask: the network learns, per
channel and position, how much each pixel (known, filled, or a user's sketch) should count.
"""

from __future__ import annotations

from torch import Tensor, nn

#: extra gain of the feature weights at init, so activations neither vanish nor explode through
#: a stack of gated layers (measured on DeepFill's 30-layer stack)
FEATURE_GAIN = 1.8


class GatedConv2d(nn.Module):
    """``act(conv_f(x)) · sigmoid(conv_g(x))`` with one fused convolution.

    Args:
        in_channels: channels in.
        out_channels: channels out.
        kernel_size: of the convolution (same padding).
        stride: of the convolution.
        dilation: of the convolution.
        activation: applied to the features (ELU as DeepFill v2; ``None`` for the output layer).

    Shape: ``(B, in_channels, H, W)`` → ``(B, out_channels, H / stride, W / stride)``

    Examples:
        >>> import torch
        >>> GatedConv2d(4, 8, 3, stride=2)(torch.rand(1, 4, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        dilation: int = 1,
        activation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding, dilation)
        self.activation = activation if activation is not None else nn.ELU()
        self.out_channels = out_channels
        # the gate (about 0.5 at init) halves the signal at every layer: without a larger
        # feature init, a 30-layer DeepFill starts with an output that ignores its input
        values, gate = self.conv.weight.data.chunk(2, dim=0)
        nn.init.kaiming_normal_(values, nonlinearity="relu")
        values.mul_(FEATURE_GAIN)
        nn.init.kaiming_normal_(gate, nonlinearity="linear")
        nn.init.zeros_(self.conv.bias)

    def forward(self, features: Tensor) -> Tensor:
        values, gate = self.conv(features).chunk(2, dim=1)
        return self.activation(values) * gate.sigmoid()
