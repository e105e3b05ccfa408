# MaskFormer-fixed (paper Table 4b): N = K = 150 queries, query i predicts
# class i, targets matched to queries by class index instead of Hungarian
# matching. Everything else is MaskFormer R50 ADE20K.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(
    decode_head=dict(
        transformer_decoder=dict(num_queries=150),
        criterion=dict(
            assigner=dict(_delete_=True, type='mmmaskformer.FixedMatchingAssigner'))))
