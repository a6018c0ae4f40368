"""A GPT written the way nanoGPT writes one: a fused qkv projection split in three, views
and transposes into heads, causal ``scaled_dot_product_attention``, a LayerNorm module
around ``F.layer_norm``, token and position embeddings (``torch.arange`` of the length,
read off ``idx.size()`` and ``idx.device``), tied input and output embeddings, the last
position picked by a list index.  It exercises what people write rather than this
repository's own modules: its certified AD contains torch's float64 autograd and the
audit decides it.  Plus the pieces one by one (split/chunk, arange, list indices,
constant embedding indices) and their one-line refusals."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.torchfx.importer import from_module
from certad import Applied, assert_ad_in_enclosures
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, flash: bool = True) -> None:
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head, self.n_embd, self.flash = n_head, n_embd, flash
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0,
                                               is_causal=True)
        else:  # nanoGPT's path without flash attention: the mask sliced by T
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, flash: bool) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=True)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, flash)
        self.ln_2 = LayerNorm(n_embd, bias=True)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab: int = 11, block_size: int = 8, n_layer: int = 2,
                 n_head: int = 2, n_embd: int = 8, flash: bool = True) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([Block(n_embd, n_head, block_size, flash)
                                for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd, bias=True)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        device = idx.device
        _b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x)[:, [-1], :])[:, 0, :]


def test_gpt_ad_in_enclosures_and_audit_decided() -> None:
    torch.manual_seed(0)
    idx = torch.randint(0, 11, (3, 8))
    y = torch.randint(0, 11, (3,))
    assert_ad_in_enclosures(GPT().double(), idx, y)
    m = GPT()
    res = Auditor(m, idx, "ce", name="gpt").audit(idx, y)
    assert res["exact"]["undecided"] is None and res["exact"]["differentiable"] is True
    assert res["W"] == sum(p.numel() for p in m.parameters())  # the tied weight once


def test_gpt_without_flash_attention_is_refused_in_one_line() -> None:
    """Slicing a stored mask by a traced length is beyond torch.fx: one line."""
    with pytest.raises(InputError, match="torch.fx cannot trace it") as e:
        from_module(GPT(flash=False), torch.zeros(1, 8, dtype=torch.long))
    assert "\n" not in str(e.value)


class _Split(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 6)
        self.pos = nn.Embedding(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, q, r = torch.split(self.a(x), [1, 2, 3], dim=1)
        s, t = self.a(x).chunk(2, dim=-1)
        u = self.pos(torch.arange(2 * x.size(1) - 1, -1, -2))  # positions 3, 1
        return torch.cat([p * q[:, [1]], r, s[:, [0, 2]] + t[:, [2, 0]] + u[0] - u[1]], dim=1)


def test_split_chunk_arange_and_list_indices_follow_autograd() -> None:
    """torch.split with sizes, chunk, list indices (reordered, repeated), arange with a
    negative step picking embedding rows: AD in the enclosures of float64 autograd."""
    torch.manual_seed(1)
    m = nn.Sequential(_Split(), nn.Linear(6, 3)).double()
    assert_ad_in_enclosures(m, torch.randn(4, 2), torch.tensor([0, 1, 2, 1]))


@pytest.mark.parametrize("fn,needle", [
    (lambda h: h.split(3, dim=0)[0], "splits the batch axis"),
    (lambda h: torch.split(h, [1, 2], dim=1)[0], "do not split an axis of 4"),
    (lambda h: h[:, [0, 1]][:, [[0]]], "one list of integers"),
    (lambda h: h + torch.arange(10 ** 9 * h.size(1))[:4], "over the limit"),
])
def test_refused_with_one_line(fn: object, needle: str) -> None:
    with pytest.raises(InputError, match=needle) as e:
        from_module(Applied(fn), torch.zeros(1, 2))
    assert "\n" not in str(e.value)


def test_token_indices_out_of_range_are_one_line() -> None:
    """From the batch and constant: an index outside the table is named."""
    m = nn.Sequential(nn.Embedding(4, 2), nn.Flatten(), nn.Linear(2, 2))
    with pytest.raises(InputError, match="token index 5 is not in 0..3"):
        from_module(m, torch.tensor([[5]]), whole_batch=True)
    with pytest.raises(InputError, match="token index 4 is not in 0..3"):
        from_module(_Positions(), torch.zeros(1, 2))


class _Positions(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.e = nn.Embedding(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.e(torch.arange(0, 2 * x.size(1) + 1, 4))[1]  # positions 0 and 4
