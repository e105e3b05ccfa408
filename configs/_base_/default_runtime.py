# mmseg's runtime (hooks, logging, visualizer, SegTTAModel) in our scope.
_base_ = ['mmseg::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# SegTTAModel builds the wrapped model itself: keep it in our scope so that
# `MaskFormerHead` can never resolve to mmseg's/mmdet's class of that name.
tta_model = dict(type='SegTTAModel', _scope_='mmmaskformer')
