# The Mask2Former panoptic demo model scored as a semantic segmenter:
# `pred_sem_seg` (probabilistic inference on the mask logits resized to the
# image first, the official order of the panoptic configs) against the
# semantic ground truth of the panoptic annotations (VOID ignored), mIoU
# from mmdet's SemSegMetric. Same model and checkpoint as the panoptic demo:
#   python tools/test.py configs/mask2former_r18-tiny_synthetic-panoptic-semantic-64x64.py \
#       work_dirs/demo-mask2former-panoptic/train/iter_2000.pth
_base_ = ['./mask2former_r18-tiny_synthetic-panoptic-64x64.py']
model = dict(test_cfg=dict(semantic_on=True))
val_evaluator = dict(
    _delete_=True, type='mmdet.SemSegMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
