# mmdet's runtime, with our scope and our atomic checkpoint hook (every
# panoptic config is iteration-based). mmdet-only types keep mmdet's stamp.
_base_ = ['mmdet::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
default_hooks = dict(
    logger=dict(interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='mmmaskformer.AtomicCheckpointHook', by_epoch=False,
        interval=50000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
