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


class Dropout(nn.Dropout):
    """``nn.Dropout`` as one fused op on every device.

    ``F.dropout`` takes ATen's fused ``native_dropout`` on CUDA only; on the
    CPU it runs ``empty_like`` + ``bernoulli_`` + ``div_`` + ``mul`` (four
    passes). ``native_dropout`` has a CPU kernel too: the same Bernoulli
    keep-mask scaled by 1 / (1 - p), one op forward and one backward. The
    random stream differs from ``F.dropout``'s on the CPU, not the
    distribution; nothing changes in eval mode or on CUDA.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p >= 1 or self.inplace:
            return super().forward(x)
        return torch.native_dropout(x, self.p, True)[0]


def _attend(attn: nn.MultiheadAttention, query, key, value,
            key_padding_mask=None) -> torch.Tensor:
    # the attention weights are not used: not averaged over heads either
    return attn(query, key, value=value, key_padding_mask=key_padding_mask,
                average_attn_weights=False)[0]


def _with_pos(x: torch.Tensor, pos: Optional[torch.Tensor]) -> torch.Tensor:
    return x if pos is None else x + pos


class TransformerEncoderLayer(nn.Module):
    """Self-attention + FFN, post-norm (default) or pre-norm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, pre_norm: bool = False) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
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
            src = src + self.dropout1(_attend(
                self.self_attn, q, k, x, key_padding_mask))
            return src + self.dropout2(self._ffn(self.norm2(src)))
        q = k = _with_pos(src, pos)
        src = self.norm1(src + self.dropout1(_attend(
            self.self_attn, q, k, src, key_padding_mask)))
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
        self.dropout = Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
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
            tgt = tgt + self.dropout1(_attend(self.self_attn, q, k, x))
            x = self.norm2(tgt)
            tgt = tgt + self.dropout2(_attend(
                self.cross_attn, _with_pos(x, query_pos), memory_key, memory,
                memory_key_padding_mask))
            return tgt + self.dropout3(self._ffn(self.norm3(tgt)))
        q = k = _with_pos(tgt, query_pos)
        tgt = self.norm1(tgt + self.dropout1(_attend(self.self_attn, q, k,
                                                      tgt)))
        tgt = self.norm2(tgt + self.dropout2(_attend(
            self.cross_attn, _with_pos(tgt, query_pos), memory_key, memory,
            memory_key_padding_mask)))
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
