# MaskFormer-bipartite with N = 150 queries (paper Table 4: "all models use
# 150 queries for a fair comparison"; 44.2 mIoU / 33.4 PQ^St), next to
# maskformer-fixed_r50_ade20k.py and per-pixel-baseline-plus_r50_ade20k.py.
_base_ = ['./maskformer_r50_ade20k.py']
model = dict(decode_head=dict(transformer_decoder=dict(num_queries=150)))
