"""Any timm model with ``features_only`` as a MaskFormer backbone."""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmmaskformer.registry import MODELS

try:
    import timm
except ImportError as e:  # timm is a declared dependency: fail loudly
    raise ImportError('mmmaskformer.TimmBackbone needs timm: '
                      'bash tools/install.sh (or pip install timm)') from e


@MODELS.register_module()
class TimmBackbone(BaseModule):
    """``timm.create_model(model_name, features_only=True)``, keeping the
    feature levels at strides 4, 8, 16 and 32 (res2..res5), NCHW.

    ``out_channels`` lists their channels; :class:`MaskFormerEncoderDecoder`
    passes it to the head, so a config names only the timm model.

    Args:
        model_name: any timm model that supports ``features_only``
            (ConvNeXt, EfficientNet, ResNet, timm's Swin ...).
        strides: the feature strides to return, high resolution first.
        pretrained: let timm load its weights (needs the weights locally;
            this workplace has no hub access), or use ``checkpoint_path``.
        **kwargs: passed to ``timm.create_model`` (``drop_path_rate`` ...).
    """

    def __init__(self, model_name: str,
                 strides: Sequence[int] = (4, 8, 16, 32),
                 pretrained: bool = False, checkpoint_path: str = '',
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(init_cfg)
        probe = timm.create_model(model_name, features_only=True,
                                  pretrained=False, **kwargs)
        reductions = probe.feature_info.reduction()
        missing = [s for s in strides if s not in reductions]
        if missing:
            raise ValueError(f'timm model {model_name!r} has feature strides '
                             f'{reductions}, not {missing}')
        out_indices = tuple(reductions.index(s) for s in strides)
        del probe
        self.model = timm.create_model(
            model_name, features_only=True, pretrained=pretrained,
            pretrained_cfg_overlay=dict(file=checkpoint_path)
            if checkpoint_path else None, out_indices=out_indices, **kwargs)
        self.out_channels = list(self.model.feature_info.channels())
        self.strides = list(strides)
        self.channels_last = str(getattr(self.model, 'output_fmt',
                                         'NCHW')).endswith('NHWC')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        feats = self.model(x)
        if self.channels_last:  # e.g. timm's Swin: (B, H, W, C)
            feats = [f.permute(0, 3, 1, 2).contiguous() for f in feats]
        return tuple(feats)
