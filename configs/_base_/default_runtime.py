# The runtime of mmseg's _base_/default_runtime.py, written out here rather
# than inherited: a `mmseg::` base stamps `_scope_='mmseg'` on every entry,
# which would send those types past our scope (our loops, hooks, checking
# loaders and metrics) to mmseg's and mmengine's. tests/test_configs.py checks
# that no config resolves a type outside our scope unless it names it.
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# --tta: the official merge (mean of the probabilistic score maps; mmseg's
# SegTTAModel averages their softmax). The TTA model builds the wrapped model
# itself: in our scope, `MaskFormerHead` can never resolve to mmseg's/mmdet's.
tta_model = dict(type='mmmaskformer.MaskFormerTTAModel')
