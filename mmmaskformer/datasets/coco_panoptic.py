"""mmdet's ``CocoPanopticDataset`` that marks images with inconsistent
annotations instead of failing deep inside or merging them silently.

Each finding names the annotation file, the image and the id. The image gets
a ``bad_reason``; ``SampleGuard`` then stops at start-up with ``'error'`` or
skips the image when it is drawn with ``'skip'``:

* a segment whose ``category_id`` is not a category of the dataset (mmdet
  raises a bare ``KeyError: <id>``);
* an image id listed twice in ``images``, or two ``annotations`` entries of
  one image (mmdet's COCO index merges their segments into one image);
* a segment id listed twice in one image's ``segments_info`` (mmdet's index
  keys segments by id, so each copy is returned once per copy: one thing
  becomes four identical masks with conflicting labels).

Two more facts go to the loader, which reads the PNG:
``listed_segment_ids`` (every listed id, as mmdet drops some segments, so
that an unlisted PNG id can be told from a dropped segment) and
``dropped_segments`` (segments mmdet drops for area 0 or an empty box;
``LoadCheckedPanopticAnnotations`` refuses them if they occur in the PNG,
where they would silently become VOID).

The duplicate checks run on the raw JSON through ``COCOAPI``, mmdet's
documented hook for the COCO index class, before mmdet's index is built.
"""
from collections import Counter

from mmdet.datasets import CocoPanopticDataset
from mmdet.datasets.api_wrappers import COCOPanoptic

from mmmaskformer.errors import printable
from mmmaskformer.registry import DATASETS

PROBLEMS_KEY = 'mmmaskformer_problems'  # on an image record of the index


class CheckedCOCOPanoptic(COCOPanoptic):
    """mmdet's COCO panoptic index that notes, on each image record, what
    its index would merge (see the module docstring)."""

    def createIndex(self) -> None:  # noqa: N802 - pycocotools' public name
        note_duplicates(self.dataset)
        super().createIndex()


def note_duplicates(dataset: dict) -> None:
    """Put the duplicate image ids, annotation entries and segment ids of a
    COCO panoptic ``dataset`` dict on its image records (``PROBLEMS_KEY``)."""
    images = dataset.get('images', [])
    annotations = dataset.get('annotations', [])
    by_id = {}
    for img in images:
        by_id.setdefault(img.get('id'), []).append(img)
    problems = {}
    for image_id, records in by_id.items():
        if len(records) > 1:
            names = ', '.join(str(r.get('file_name')) for r in records[:5])
            problems.setdefault(image_id, []).append(
                f'image id {image_id} is listed {len(records)} times in '
                f'"images" ({names}); their segments would be merged')
    entries = Counter(a.get('image_id') for a in annotations)
    for image_id, n in entries.items():
        if n > 1:
            problems.setdefault(image_id, []).append(
                f'{n} entries of "annotations" have image_id {image_id}; '
                'their segments would be merged')
    for ann in annotations:
        counts = Counter(s.get('id') for s in ann.get('segments_info', []))
        for segment_id, n in counts.items():
            if n > 1:
                problems.setdefault(ann.get('image_id'), []).append(
                    f'segment id {segment_id} is listed {n} times in its '
                    'segments_info')
    for image_id, found in problems.items():
        for img in by_id.get(image_id, []):
            img[PROBLEMS_KEY] = found


@DATASETS.register_module()
class CheckedCocoPanopticDataset(CocoPanopticDataset):
    """See the module docstring; arguments are mmdet's."""

    COCOAPI = CheckedCOCOPanoptic

    def parse_data_info(self, raw_data_info: dict) -> dict:
        img_info = raw_data_info['raw_img_info']
        anns = [a for a in raw_data_info['raw_ann_info']
                if a['image_id'] == img_info['img_id']]
        unknown = [a for a in anns if a['category_id'] not in self.cat2label]
        known = [a for a in anns if a['category_id'] in self.cat2label]
        info = super().parse_data_info(
            dict(raw_data_info, raw_ann_info=known))
        info['listed_segment_ids'] = [a['id'] for a in anns]
        dropped = [a['id'] for a in known
                   if a['area'] <= 0 or a['bbox'][2] < 1 or a['bbox'][3] < 1]
        if dropped:
            info['dropped_segments'] = dict(
                json=self.ann_file, image=img_info['file_name'], ids=dropped)
        where = (f'{printable(self.ann_file)}: image '
                 f'{printable(img_info["file_name"])}')
        reasons = [f'{where}: {p}' for p in img_info.get(PROBLEMS_KEY, [])]
        reasons += [
            f'{where}: segment {a["id"]} has category_id {a["category_id"]}, '
            'which is not a category of the dataset' for a in unknown[:5]]
        if reasons:
            info['bad_reason'] = '; '.join(reasons)
        return info
