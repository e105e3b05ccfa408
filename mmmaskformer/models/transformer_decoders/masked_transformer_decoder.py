"""Mask2Former's transformer decoder: masked cross-attention over three
feature scales in round robin (official ``MultiScaleMaskedTransformerDecoder``,
``modeling/transformer_decoder/mask2former_transformer_decoder.py``).

Shapes: B batch, Q queries, D ``hidden_dim``, M heads, K classes, E mask
width, h x w the pixel embedding (stride 4), S_l = h_l * w_l tokens of
memory level l (level 0 = the coarsest, 1/32). Query states are
sequence-first (Q, B, D), as ``nn.MultiheadAttention(batch_first=False)``.
"""
from typing import List, NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmmaskformer.layers import MLP, PositionEmbeddingSine, c2_xavier_fill
from mmmaskformer.layers.transformer import Dropout
from mmmaskformer.registry import MODELS
from mmmaskformer.structures import MaskFormerOutput


def _xavier(module: nn.Module) -> None:
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)


class CrossAttentionLayer(nn.Module):
    """Queries attend to one memory level under an attention mask.

    Post-norm: ``norm(tgt + attn(tgt + query_pos, memory + pos, memory))``;
    pre-norm: ``tgt + attn(norm(tgt) + query_pos, memory + pos, memory)``
    (``memory + pos`` is passed in as ``key``).
    """

    def __init__(self, d_model: int, nhead: int, dropout: float = 0.0,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.pre_norm = pre_norm
        _xavier(self)

    def forward(self, tgt: torch.Tensor, key: torch.Tensor,
                memory: torch.Tensor, attn_mask: Optional[torch.Tensor],
                query_pos: torch.Tensor) -> torch.Tensor:
        """tgt, query_pos (Q, B, D); key = memory + pos, memory (S, B, D)
        (the keys are computed once per level, not per layer); attn_mask
        (B*M, Q, S) bool, True = may not attend."""
        x = self.norm(tgt) if self.pre_norm else tgt
        out = self.attn(x + query_pos, key, memory, attn_mask=attn_mask,
                        need_weights=False)[0]
        if self.pre_norm:
            return tgt + self.dropout(out)
        return self.norm(tgt + self.dropout(out))


class SelfAttentionLayer(nn.Module):
    """Query self-attention; ``query_pos`` is added to queries and keys."""

    def __init__(self, d_model: int, nhead: int, dropout: float = 0.0,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.pre_norm = pre_norm
        _xavier(self)

    def forward(self, tgt: torch.Tensor,
                query_pos: torch.Tensor) -> torch.Tensor:
        x = self.norm(tgt) if self.pre_norm else tgt
        q = k = x + query_pos
        out = self.attn(q, k, x, need_weights=False)[0]
        if self.pre_norm:
            return tgt + self.dropout(out)
        return self.norm(tgt + self.dropout(out))


class FFNLayer(nn.Module):
    """``linear2(relu(linear1(x)))`` with a residual, post- or pre-norm."""

    def __init__(self, d_model: int, dim_feedforward: int = 2048,
                 dropout: float = 0.0, pre_norm: bool = False) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.dropout_out = Dropout(dropout)
        self.pre_norm = pre_norm
        _xavier(self)

    def forward(self, tgt: torch.Tensor) -> torch.Tensor:
        x = self.norm(tgt) if self.pre_norm else tgt
        out = self.linear2(self.dropout(F.relu(self.linear1(x))))
        if self.pre_norm:
            return tgt + self.dropout_out(out)
        return self.norm(tgt + self.dropout_out(out))


class MaskedDecoderTrace(NamedTuple):
    """Everything the decoder computed, for parity checks and analysis.

    Prediction p = 0 comes from ``query_feat`` before any layer, p = i + 1
    follows layer i. ``attn_masks[p]`` is the mask prediction p builds for
    level ``p mod 3`` (before the all-masked fix); ``attn_masks_used[i]`` is
    what layer i's cross-attention received (after it).
    """
    output: MaskFormerOutput  # (L+1, B, Q, K+1), (L+1, B, Q, h, w)
    pos: List[torch.Tensor]  # per level (S_l, B, D)
    normed: List[torch.Tensor]  # per prediction (B, Q, D), decoder_norm out
    mask_embed: List[torch.Tensor]  # per prediction (B, Q, E)
    attn_masks: List[torch.Tensor]  # per prediction (B*M, Q, S_level) bool
    attn_masks_used: List[torch.Tensor]  # per layer (B*M, Q, S_level) bool
    after_cross_attn: List[torch.Tensor]  # per layer (Q, B, D)
    after_self_attn: List[torch.Tensor]  # per layer (Q, B, D)
    after_ffn: List[torch.Tensor]  # per layer (Q, B, D)


@MODELS.register_module()
class MultiScaleMaskedTransformerDecoder(BaseModule):
    """Masked-attention transformer decoder (named after the paper).

    Reads the pixel decoder's three memory levels (coarsest first) and its
    per-pixel embedding, and predicts a class and a mask per query after
    every layer::

        pred_0 = heads(query_feat)
        for layer i = 0 .. L-1, level = i mod 3 (1/32, 1/16, 1/8, 1/32, ...):
            mask  = interp(pred_i masks, level size) sigmoid < 0.5   (detached)
            mask[rows masked everywhere] = unmasked
            x = cross_attn(x, level memory, mask) -> self_attn(x) -> ffn(x)
            pred_{i+1} = heads(x)
        heads(x) = class_embed(n), einsum(mask_embed(n), pixel_embed), n = decoder_norm(x)

    So ``num_layers`` L layers give L + 1 predictions, all supervised: the
    official ``DEC_LAYERS`` counts predictions (``DEC_LAYERS: 10`` = 9
    layers). ``query_embed`` is added to the queries of both attentions and
    to the self-attention keys, the level's sine ``pos`` to the memory keys,
    ``level_embed`` to the memory (keys and values); the shared
    ``decoder_norm`` acts inside the heads only (the next layer receives the
    un-normalised state). Dropout is 0 in every layer (hard-coded
    officially; ``dropout`` is exposed for experiments).

    ``hidden_dim`` is independent of the pixel decoder width: a 1x1
    ``input_proj`` per level maps ``in_channels`` to it when they differ
    (or with ``enforce_input_proj``). Init (official): xavier-uniform on
    every matrix of the attention and FFN layers, ``c2_xavier_fill`` on the
    input projections, PyTorch defaults elsewhere (embeddings N(0, 1)).

    Returns :class:`~mmmaskformer.structures.MaskFormerOutput`
    ``cls_logits`` (L+1, B, Q, K+1), ``mask_logits`` (L+1, B, Q, h, w); the
    last entry is the prediction, the others auxiliary, the first one from
    the learnable query features.
    """

    num_levels = 3  # official num_feature_levels, "always use 3 scales"

    def __init__(self, in_channels: int, num_classes: int,
                 hidden_dim: int = 256, num_queries: int = 100,
                 num_heads: int = 8, dim_feedforward: int = 2048,
                 num_layers: int = 9, mask_dim: int = 256,
                 pre_norm: bool = False, enforce_input_proj: bool = False,
                 dropout: float = 0.0, init_cfg=None) -> None:
        super().__init__(init_cfg)
        if num_layers < 0:
            raise ValueError(f'num_layers={num_layers}')
        self.num_classes = num_classes
        self.hidden_dim = hidden_dim
        self.num_queries = num_queries
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.pos_embed = PositionEmbeddingSine(hidden_dim // 2, normalize=True)
        self._pos_cache = {}  # see level_pos
        self.cross_attn_layers = nn.ModuleList(
            CrossAttentionLayer(hidden_dim, num_heads, dropout, pre_norm)
            for _ in range(num_layers))
        self.self_attn_layers = nn.ModuleList(
            SelfAttentionLayer(hidden_dim, num_heads, dropout, pre_norm)
            for _ in range(num_layers))
        self.ffn_layers = nn.ModuleList(
            FFNLayer(hidden_dim, dim_feedforward, dropout, pre_norm)
            for _ in range(num_layers))
        self.decoder_norm = nn.LayerNorm(hidden_dim)
        self.query_feat = nn.Embedding(num_queries, hidden_dim)
        self.query_embed = nn.Embedding(num_queries, hidden_dim)
        self.level_embed = nn.Embedding(self.num_levels, hidden_dim)
        self.input_proj = nn.ModuleList()
        for _ in range(self.num_levels):
            if in_channels != hidden_dim or enforce_input_proj:
                proj = nn.Conv2d(in_channels, hidden_dim, 1)
                c2_xavier_fill(proj)
            else:
                proj = nn.Identity()
            self.input_proj.append(proj)
        self.cls_embed = nn.Linear(hidden_dim, num_classes + 1)
        self.mask_embed = MLP(hidden_dim, hidden_dim, mask_dim, 3)

    def level_pos(self, x: torch.Tensor) -> torch.Tensor:
        """The sine position embedding of a memory level x (B, C, h_l, w_l)
        as (S_l, B, D). It depends on the level's shape only, so it is
        computed once per (B, h_l, w_l, device) and kept (a few entries: a
        run has one size per level, or a few at test time)."""
        key = (x.shape[0], *x.shape[-2:], x.device,
               torch.is_inference_mode_enabled())
        if key not in self._pos_cache:
            if len(self._pos_cache) >= 12:
                self._pos_cache.clear()
            self._pos_cache[key] = self.pos_embed(x).flatten(2).permute(
                2, 0, 1)
        return self._pos_cache[key]

    def predict(self, state: torch.Tensor, pixel_embed: torch.Tensor,
                attn_size, record=None):
        """Class and mask logits of the state (Q, B, D), and the attention
        mask they make for a level of size ``attn_size``:
        (B, Q, K+1), (B, Q, h, w), (B*M, Q, h_l*w_l) bool, True = masked
        (None when ``attn_size`` is None: the last prediction's, which no
        layer reads, is made only for a trace)."""
        normed = self.decoder_norm(state).transpose(0, 1)  # (B, Q, D)
        cls_logits = self.cls_embed(normed)  # (B, Q, K+1)
        embed = self.mask_embed(normed)  # (B, Q, E)
        mask_logits = torch.einsum('bqc,bchw->bqhw', embed,
                                   pixel_embed)  # (B, Q, h, w)
        if attn_size is None:
            return cls_logits, mask_logits, None
        resized = F.interpolate(mask_logits, size=attn_size,
                                mode='bilinear', align_corners=False)
        # sigmoid < 0.5, not logit < 0: they differ for |x| < ~6e-8 in fp32
        attn_mask = (resized.sigmoid().flatten(2) < 0.5).detach()  # (B, Q, S)
        # one copy per head, batch-major (index b * M + h), as MHA expects
        attn_mask = attn_mask.repeat_interleave(self.num_heads, dim=0)
        if record is not None:
            record['normed'].append(normed)
            record['mask_embed'].append(embed)
            record['attn_masks'].append(attn_mask)
        return cls_logits, mask_logits, attn_mask

    def _run(self, memory: Sequence[torch.Tensor], pixel_embed: torch.Tensor,
             record=None) -> MaskFormerOutput:
        if len(memory) != self.num_levels:
            raise ValueError(f'expected {self.num_levels} memory levels '
                             f'(coarsest first), got {len(memory)}')
        batch_size = pixel_embed.shape[0]
        srcs, keys, pos, sizes = [], [], [], []
        for lvl, x in enumerate(memory):
            sizes.append(tuple(x.shape[-2:]))
            pos.append(self.level_pos(x))  # (S_l, B, D)
            src = self.input_proj[lvl](x).flatten(2) + \
                self.level_embed.weight[lvl][None, :, None]  # (B, D, S_l)
            srcs.append(src.permute(2, 0, 1))  # (S_l, B, D)
            keys.append(srcs[-1] + pos[-1])  # once per level, not per layer
        if record is not None:
            record['pos'] = pos
        query_pos = self.query_embed.weight[:, None].repeat(
            1, batch_size, 1)  # (Q, B, D)
        state = self.query_feat.weight[:, None].repeat(1, batch_size, 1)
        cls, masks, attn_mask = self.predict(state, pixel_embed, sizes[0],
                                             record)
        all_cls, all_masks = [cls], [masks]
        for i in range(self.num_layers):
            lvl = i % self.num_levels
            # a query masked everywhere attends everywhere instead (else
            # softmax over nothing is NaN; official issues #77, #125, #243)
            attn_mask = attn_mask & ~attn_mask.all(-1, keepdim=True)
            state = self.cross_attn_layers[i](state, keys[lvl], srcs[lvl],
                                              attn_mask, query_pos)
            if record is not None:
                record['attn_masks_used'].append(attn_mask)
                record['after_cross_attn'].append(state)
            state = self.self_attn_layers[i](state, query_pos)
            if record is not None:
                record['after_self_attn'].append(state)
            state = self.ffn_layers[i](state)
            if record is not None:
                record['after_ffn'].append(state)
            last = i == self.num_layers - 1 and record is None
            cls, masks, attn_mask = self.predict(
                state, pixel_embed,
                None if last else sizes[(i + 1) % self.num_levels], record)
            all_cls.append(cls)
            all_masks.append(masks)
        return MaskFormerOutput(torch.stack(all_cls), torch.stack(all_masks))

    def forward(self, memory: Sequence[torch.Tensor],
                pixel_embed: torch.Tensor) -> MaskFormerOutput:
        """memory: 3 x (B, C, h_l, w_l), coarsest first; pixel_embed
        (B, E, h, w)."""
        return self._run(memory, pixel_embed)

    def trace(self, memory: Sequence[torch.Tensor],
              pixel_embed: torch.Tensor) -> MaskedDecoderTrace:
        """``forward`` plus every intermediate (see
        :class:`MaskedDecoderTrace`)."""
        record = {k: [] for k in MaskedDecoderTrace._fields
                  if k not in ('output', 'pos')}
        output = self._run(memory, pixel_embed, record)
        return MaskedDecoderTrace(output=output, pos=record.pop('pos'),
                                  **record)
