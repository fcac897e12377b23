"""An int8 copy of a float32 LLM for the short steps after a prompt, on CPU.

Why the plain way fails: torch's dynamic quantisation gives each call's activations one
scale per tensor. SmolLM2-135M carries massive activations (up to ~2,500, against a mean of
~0.1, at the input of some MLP down-projections, on the first tokens of a document), so a
call that includes such a token rounds nearly every other activation to zero: log-probabilities
moved by up to 6 nats. Two rules keep the error to a few hundredths of a nat per token:
- the prompt is read by the float32 model, and only the few tokens of each step after it by
  this copy (the cache is the same format, so both write to one cache);
- input channels whose activations on a calibration text exceed OUTLIER_RATIO times the
  layer's median stay in float32 (the LLM.int8() decomposition; about 8% of SmolLM2's); the
  rest use int8 weights with one scale per output channel.
Measured on SmolLM2 (4-8 new tokens over a 1,000-token cache, 2 CPU cores): 55-64 ms a
step against 92 ms in float32; GFD scores per token within 0.06 nat (tests/test_fusion.py).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch

OUTLIER_RATIO = 2.0
CALIBRATION = (
    "The following is a transcription of a meeting. Anna said the numbers for March were "
    "lower than expected, and Tom asked whether the support desk could take two more people "
    "before the summer. We deployed the billing service last week; the customer data is "
    "stored on the main server, and the dashboard shows the latency of every request. "
    "Glossary of names and terms: Kubernetes, PostgreSQL, Siobhan, Okonkwo, Grafana.")


class MixedInt8Linear(torch.nn.Module):
    """y = int8(x without outlier channels) + x[outliers] @ W[:, outliers].T in float32.

    The outlier channels are zeroed, not cut out, on both sides of the int8 product: a zero
    is exact in int8 and the scales stay those of the kept channels, so the result is the
    same, and a multiply by a mask costs a fraction of a gather on a few rows."""

    def __init__(self, linear: torch.nn.Linear, outliers: torch.Tensor):
        super().__init__()
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        keep = torch.ones(linear.in_features)
        keep[outliers] = 0.0
        self.register_buffer("keep", keep)
        self.register_buffer("outliers", outliers)
        self.register_buffer("w_outliers", linear.weight.detach()[:, outliers].clone())
        inner = torch.nn.Linear(linear.in_features, linear.out_features,
                                bias=linear.bias is not None)
        with torch.no_grad():
            inner.weight.copy_(linear.weight * keep)
            if linear.bias is not None:
                inner.bias.copy_(linear.bias)
        with warnings.catch_warnings():     # torch.ao's notice that the API will move
            warnings.simplefilter("ignore")
            self.inner = quantize_dynamic(torch.nn.Sequential(inner),
                                          {torch.nn.Linear: per_channel_dynamic_qconfig},
                                          dtype=torch.qint8)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x * self.keep)
        if len(self.outliers):
            out = out + x[..., self.outliers] @ self.w_outliers.T
        return out


def _activation_peaks(model: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per input channel, the largest |activation| each Linear sees on `ids`."""
    peaks: dict[str, torch.Tensor] = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            def hook(_m, inp, _out, name=name):
                x = inp[0].detach().abs().reshape(-1, inp[0].shape[-1])
                peaks[name] = x.amax(0)
            hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.inference_mode():
            model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()
    return peaks


def int8_copy(model: Any, tokenizer: Any, doc_start_id: int) -> Any:
    """A copy of `model` (float32, CPU) whose Linear layers run in int8 (the embeddings are
    shared with `model`, not copied)."""
    if model.device.type != "cpu" or model.dtype != torch.float32:
        raise ValueError("int8 steps need a float32 model on the CPU")
    ids = torch.tensor([[doc_start_id] + tokenizer(CALIBRATION)["input_ids"]])
    peaks = _activation_peaks(model, ids)
    shared = {id(p): p for n, p in model.named_parameters() if "embed" in n}
    q = copy.deepcopy(model, memo=dict(shared))
    for name, peak in peaks.items():
        parent_name, _, attr = name.rpartition(".")
        linear = q.get_submodule(name)
        outliers = (peak > OUTLIER_RATIO * peak.median()).nonzero()[:, 0]
        setattr(q.get_submodule(parent_name), attr, MixedInt8Linear(linear, outliers))
    return q.eval()
