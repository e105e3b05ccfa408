"""mmdet's ``CocoPanopticDataset`` that marks bad annotations instead of
failing deep inside (registered under mmdet's name in our scope).

mmdet's ``parse_data_info`` raises a bare ``KeyError: <id>`` for a segment
whose ``category_id`` is not a category of the dataset. Here such an image
gets ``bad_reason`` (naming the annotation file, the image, the segment and
the category id); ``SampleGuard`` stops at start-up with ``'error'`` or
skips the image when it is drawn with ``'skip'``. Every listed segment id is
kept in ``listed_segment_ids`` (mmdet drops segments with an empty box), so
that ``LoadPanopticAnnotations`` can tell an unlisted PNG id from a dropped
segment.
"""
from mmdet.datasets import CocoPanopticDataset as MMDetCocoPanopticDataset

from mmmaskformer.registry import DATASETS


@DATASETS.register_module()
class CheckedCocoPanopticDataset(MMDetCocoPanopticDataset):
    """See the module docstring; arguments are mmdet's."""

    def parse_data_info(self, raw_data_info: dict) -> dict:
        img_info = raw_data_info['raw_img_info']
        anns = [a for a in raw_data_info['raw_ann_info']
                if a['image_id'] == img_info['img_id']]
        unknown = [a for a in anns if a['category_id'] not in self.cat2label]
        known = [a for a in anns if a['category_id'] in self.cat2label]
        info = super().parse_data_info(
            dict(raw_data_info, raw_ann_info=known))
        info['listed_segment_ids'] = [a['id'] for a in anns]
        if unknown:
            info['bad_reason'] = '; '.join(
                f'{self.ann_file}: image {img_info["file_name"]}: segment '
                f'{a["id"]} has category_id {a["category_id"]}, which is not '
                'a category of the dataset' for a in unknown[:5])
        return info
