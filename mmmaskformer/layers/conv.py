"""Conv -> norm -> activation, the detectron2 ``Conv2d(norm=, activation=)`` pattern.

Plain building block: no registry, no config, no OpenMMLab imports.
"""
from typing import Optional

import torch
from torch import nn


def c2_xavier_fill(module: nn.Module) -> None:
    """detectron2/fvcore ``c2_xavier_fill``: kaiming-uniform(a=1), zero bias."""
    nn.init.kaiming_uniform_(module.weight, a=1)
    if module.bias is not None:
        nn.init.constant_(module.bias, 0)


class ConvNormAct(nn.Module):
    """``conv`` (no bias when a norm follows) -> ``norm`` (GroupNorm) -> ReLU.

    Keys: ``conv.weight`` [, ``conv.bias``], ``norm.weight``, ``norm.bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 num_groups: Optional[int] = 32, act: bool = True) -> None:
        super().__init__()
        use_norm = num_groups is not None and num_groups > 0
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size,
            padding=kernel_size // 2, bias=not use_norm)
        self.norm = nn.GroupNorm(num_groups, out_channels) if use_norm \
            else nn.Identity()
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()
        c2_xavier_fill(self.conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))
