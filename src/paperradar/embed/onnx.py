"""The quality tier: all-MiniLM-L6-v2 exported to ONNX (int8 on the CPU), run with onnxruntime.

Same recipe as sentence-transformers: WordPiece with [CLS]/[SEP], truncation to 256 tokens, mean
pooling over the attention mask and L2 normalisation (the last two are inside the ONNX graph, see
build.py). Texts are batched by token length to waste little work on padding, then put back in order.
Reads model files (I/O); no torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from ..errors import BackendUnavailable

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH = {"int8": 32, "fp32": 256}  # texts per run: 8, 16 and 32 measured alike on 2 cores
CPU = "CPUExecutionProvider"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def load_tokenizer(folder: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def length_order(ids: list[list[int]]) -> list[int]:
    """The order texts are run in, shortest first, `batch_size` at a time. int8 activations are
    scaled per run, so a text's vector depends slightly on the texts it runs with: whoever cuts one
    call into several (cluster.RayEmbedder) cuts along this order, at multiples of `batch_size`."""
    return sorted(range(len(ids)), key=lambda i: len(ids[i]))


class OnnxEmbedder:
    """MiniLM through onnxruntime. On the CPU the int8 model (per-channel weights); with another
    execution provider (a GPU) the float32 model, since int8 kernels are a CPU speciality."""

    dim = 384

    def __init__(
        self, folder: Path, digest: str, providers: list[str] | None = None, threads: int | None = None
    ):
        providers = providers or [CPU]
        on_cpu = providers[0] == CPU
        variant = "int8" if on_cpu else "fp32"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _cores()  # a Ray worker asks for its share
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        model = folder / ("model_int8.onnx" if on_cpu else "model.onnx")
        self._session = ort.InferenceSession(str(model), options, providers=providers)
        self._tokenizer = load_tokenizer(folder)
        self.batch_size = BATCH[variant]
        self.model_id = f"all-MiniLM-L6-v2/onnx-{variant}@{digest}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = length_order(ids)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([ids[i] for i in rows])
        return out

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, x in enumerate(batch):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        (vectors,) = self._session.run(
            ["sentence_embedding"], {"input_ids": input_ids, "attention_mask": mask}
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_states(self, texts: list[str]) -> Iterator[tuple[int, list[int], np.ndarray]]:
        """(index of the text, its token ids, the model's last hidden state of each token), shortest
        texts first: what the fast tier is trained to imitate (train.py). Needs a model built with
        that output (build.py)."""
        if "token_embeddings" not in {o.name for o in self._session.get_outputs()}:
            raise BackendUnavailable("the quality model has no token output: rebuild it with `make models`")
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            states = self.states_of([ids[i] for i in rows])
            yield from ((i, ids[i], h) for i, h in zip(rows, states, strict=True))

    def states_of(self, batch: list[list[int]]) -> list[np.ndarray]:
        """The last hidden state of each token of each (already tokenised) text."""
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), max(width, 1)), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, x in enumerate(batch):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        (hidden,) = self._session.run(["token_embeddings"], {"input_ids": input_ids, "attention_mask": mask})
        return [np.asarray(hidden[row, : len(x)], dtype=np.float32) for row, x in enumerate(batch)]
