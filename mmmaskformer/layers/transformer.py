"""DETR transformer layers as used by the official MaskFormer.

Sequence-first tensors throughout, as in the official code and
``nn.MultiheadAttention(batch_first=False)``:

    S  tokens of the image feature (h*w, row-major)   Q  queries
    B  batch                                           D  model width

Plain building blocks: no registry, no config, no OpenMMLab imports. The
parameter names (``self_attn``, ``linear1``, ``norm1`` ...) follow
``torch.nn`` and the official code so that checkpoints convert one to one.
"""
import copy
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn


def _with_pos(x: torch.Tensor, pos: Optional[torch.Tensor]) -> torch.Tensor:
    return x if pos is None else x + pos


class TransformerEncoderLayer(nn.Module):
    """Self-attention + FFN, post-norm (default) or pre-norm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, pre_norm: bool = False) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))

    def forward(self, src: torch.Tensor,
                pos: Optional[torch.Tensor] = None,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """src, pos: (S, B, D); key_padding_mask: (B, S) bool, True = pad."""
        if self.pre_norm:
            x = self.norm1(src)
            q = k = _with_pos(x, pos)
            src = src + self.dropout1(self.self_attn(
                q, k, value=x, key_padding_mask=key_padding_mask)[0])
            return src + self.dropout2(self._ffn(self.norm2(src)))
        q = k = _with_pos(src, pos)
        src = self.norm1(src + self.dropout1(self.self_attn(
            q, k, value=src, key_padding_mask=key_padding_mask)[0]))
        return self.norm2(src + self.dropout2(self._ffn(src)))


class TransformerDecoderLayer(nn.Module):
    """Query self-attention, cross-attention to the image, FFN.

    Post-norm (DETR default): ``norm1`` after self-attention, ``norm2`` after
    cross-attention, ``norm3`` after the FFN.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, pre_norm: bool = False) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.cross_attn = nn.MultiheadAttention(
            d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor,
                pos: Optional[torch.Tensor] = None,
                query_pos: Optional[torch.Tensor] = None,
                memory_key_padding_mask: Optional[torch.Tensor] = None,
                memory_key: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """tgt, query_pos: (Q, B, D); memory, pos: (S, B, D);
        ``memory_key``: ``memory + pos`` when the caller has it already."""
        if memory_key is None:
            memory_key = _with_pos(memory, pos)
        if self.pre_norm:
            x = self.norm1(tgt)
            q = k = _with_pos(x, query_pos)
            tgt = tgt + self.dropout1(self.self_attn(q, k, value=x)[0])
            x = self.norm2(tgt)
            tgt = tgt + self.dropout2(self.cross_attn(
                query=_with_pos(x, query_pos), key=memory_key,
                value=memory, key_padding_mask=memory_key_padding_mask)[0])
            return tgt + self.dropout3(self._ffn(self.norm3(tgt)))
        q = k = _with_pos(tgt, query_pos)
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(q, k, value=tgt)[0]))
        tgt = self.norm2(tgt + self.dropout2(self.cross_attn(
            query=_with_pos(tgt, query_pos), key=memory_key,
            value=memory, key_padding_mask=memory_key_padding_mask)[0]))
        return self.norm3(tgt + self.dropout3(self._ffn(tgt)))


def _clones(module: nn.Module, n: int) -> nn.ModuleList:
    return nn.ModuleList(copy.deepcopy(module) for _ in range(n))


class TransformerEncoder(nn.Module):
    """A stack of encoder layers; a final ``norm`` exists only with pre-norm
    (the official ``encoder_norm``)."""

    def __init__(self, num_layers: int, d_model: int, nhead: int,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.layers = _clones(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                    pre_norm), num_layers)
        self.norm = nn.LayerNorm(d_model) if pre_norm else None

    def forward(self, src: torch.Tensor, pos: Optional[torch.Tensor] = None,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(S, B, D) -> (S, B, D)."""
        for layer in self.layers:
            src = layer(src, pos=pos, key_padding_mask=key_padding_mask)
        if self.norm is not None:
            src = self.norm(src)
        return src


class TransformerDecoder(nn.Module):
    """A stack of decoder layers with a shared final LayerNorm ``post_norm``.

    Returns every layer's output after ``post_norm`` (deep supervision). The
    next layer receives the *un-normalised* state, as in DETR.
    """

    def __init__(self, num_layers: int, d_model: int, nhead: int,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.layers = _clones(
            TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                    pre_norm), num_layers)
        self.post_norm = nn.LayerNorm(d_model)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor,
                pos: Optional[torch.Tensor] = None,
                query_pos: Optional[torch.Tensor] = None,
                memory_key_padding_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """Returns (L, Q, B, D)."""
        states: List[torch.Tensor] = []
        memory_key = _with_pos(memory, pos)  # the same for every layer
        for layer in self.layers:
            tgt = layer(tgt, memory, pos=pos, query_pos=query_pos,
                        memory_key_padding_mask=memory_key_padding_mask,
                        memory_key=memory_key)
            states.append(tgt)
        # the shared norm on all layers at once (it is per token)
        return self.post_norm(torch.stack(states))


def xavier_init_transformer(module: nn.Module) -> None:
    """Official init: xavier-uniform on every parameter with dim > 1."""
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
