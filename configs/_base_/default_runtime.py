# mmseg's runtime (hooks, logging, visualizer, SegTTAModel) in our scope.
_base_ = ['mmseg::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
