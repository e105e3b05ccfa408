# mmseg's runtime, with our scope and the official TTA merge. Every class of
# this package is named `mmmaskformer.<Name>` in our configs, so the
# `_scope_='mmseg'` that an `mmseg::` base stamps on its entries changes
# nothing for ours; an unprefixed type is always the upstream class.
_base_ = ['mmseg::_base_/default_runtime.py']
default_scope = 'mmmaskformer'
custom_imports = dict(imports=['mmmaskformer'], allow_failed_imports=False)
# --tta: the official merge (mean of the probabilistic score maps; mmseg's
# SegTTAModel averages their softmax)
tta_model = dict(type='mmmaskformer.MaskFormerTTAModel')
