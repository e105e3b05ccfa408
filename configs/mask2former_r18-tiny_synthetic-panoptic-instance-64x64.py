# The Mask2Former panoptic demo model scored as an instance segmenter:
# `pred_instances` by the official rule (top 100 of all (query, class) pairs,
# the thing ones kept since the model is panoptic) against the things of the
# generated panoptic annotations (annotations/instances_val.json), mask AP
# from mmdet's CocoMetric. Same model and checkpoint as the panoptic demo:
#   python tools/test.py configs/mask2former_r18-tiny_synthetic-panoptic-instance-64x64.py \
#       work_dirs/demo-mask2former-panoptic/train/iter_2000.pth
_base_ = ['./mask2former_r18-tiny_synthetic-panoptic-64x64.py']
data_root = 'data/synthetic/'
model = dict(test_cfg=dict(instance_on=True))
val_evaluator = dict(
    _delete_=True,
    type='mmdet.CocoMetric',
    metric='segm',
    ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
