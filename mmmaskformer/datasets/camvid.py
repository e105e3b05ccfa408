"""CamVid (11 classes), read in place from the shared folder."""
from mmseg.datasets import BaseSegDataset

from mmmaskformer.registry import DATASETS


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid in ``images/{split}/*.jpg`` + ``labels/{split}/*.png`` (the
    SegNet release: 11 classes, index 11 = unlabelled, mapped to 255 so that
    it is ignored in training and evaluation)."""

    METAINFO = dict(
        classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                 'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                 [0, 128, 192]])
    UNLABELLED = 11

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=False, **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        for info in data_list:
            label_map = dict(info.get('label_map') or {})
            label_map[self.UNLABELLED] = 255
            info['label_map'] = label_map
        return data_list
