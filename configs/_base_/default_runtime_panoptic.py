# The runtime of mmdet's _base_/default_runtime.py, written out here rather
# than inherited (a `mmdet::` base stamps `_scope_='mmdet'` on every entry and
# would send CheckpointHook past ours to mmengine's). Types only mmdet has
# carry the `mmdet.` prefix: our registries are children of mmseg's.
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# every panoptic config is iteration-based
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='mmmaskformer.AtomicCheckpointHook', by_epoch=False, interval=50000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='mmdet.DetVisualizationHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='mmdet.DetLocalVisualizer', vis_backends=vis_backends,
    name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
