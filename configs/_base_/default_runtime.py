# mmseg's runtime (hooks, logging, visualizer, SegTTAModel) in our scope.
_base_ = ['mmseg::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# --tta: the official merge (mean of the probabilistic score maps; mmseg's
# SegTTAModel averages their softmax). The TTA model builds the wrapped model
# itself: in our scope, `MaskFormerHead` can never resolve to mmseg's/mmdet's.
tta_model = dict(type='MaskFormerTTAModel', _scope_='mmmaskformer')
