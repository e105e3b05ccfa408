# mmdet's runtime (hooks, logging, DetLocalVisualizer) in our scope. Types
# from mmdet carry the `mmdet.` prefix in our panoptic configs (our registries
# are children of mmseg's, so mmdet's are reached by prefix).
_base_ = ['mmdet::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# every panoptic config is iteration-based
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=50000,
        max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
