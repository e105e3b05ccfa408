"""mmseg's EncoderDecoder that hands the backbone's channels to the head."""
from mmseg.models.segmentors import EncoderDecoder

from mmmaskformer.registry import MODELS


@MODELS.register_module()
class MaskFormerEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose ``decode_head.in_channels`` may be left out:
    it is then taken from ``backbone.out_channels`` (e.g. a
    :class:`TimmBackbone`). Everything else is mmseg's segmentor."""

    def _init_decode_head(self, decode_head: dict) -> None:
        if decode_head.get('in_channels') is None:
            channels = getattr(self.backbone, 'out_channels', None)
            if channels is None:
                raise ValueError(
                    'decode_head.in_channels is not set and the backbone '
                    f'{type(self.backbone).__name__} has no out_channels')
            decode_head = dict(decode_head, in_channels=list(channels))
        super()._init_decode_head(decode_head)
