"""The two sentence encoders the package registries offer with their weights inside (see README.md).

MiniLM is all-MiniLM-L6-v2 (BERT, 6 layers, mean pooling), run here in numpy so that the experiment
needs no torch; WordLlama averages static token embeddings, as its own inference code does.
"""
import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained on; a longer passage is cut


def _unit(rows):
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    norms[norms == 0] = 1
    return rows / norms


class MiniLM:
    def __init__(self, folder):
        self.w = load_file(f'{folder}/model.safetensors')
        self.tok = Tokenizer.from_file(f'{folder}/tokenizer.json')
        self.tok.no_padding()  # its tokenizer.json pads every input to 128
        self.tok.no_truncation()

    def _norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f'{name}.weight'] + self.w[f'{name}.bias']

    def _linear(self, x, name):
        return x @ self.w[f'{name}.weight'].T + self.w[f'{name}.bias']

    def encode_one(self, text):
        ids = self.tok.encode(text).ids[:MAX_TOKENS]
        ids[-1] = self.tok.token_to_id('[SEP]')
        w, n, heads = self.w, len(ids), 12
        x = w['embeddings.word_embeddings.weight'][ids] + w['embeddings.position_embeddings.weight'][:n]
        x = self._norm(x + w['embeddings.token_type_embeddings.weight'][0], 'embeddings.LayerNorm')
        for layer in range(6):
            p = f'encoder.layer.{layer}.'
            q, k, v = (self._linear(x, f'{p}attention.self.{m}').reshape(n, heads, -1).transpose(1, 0, 2)
                       for m in ('query', 'key', 'value'))
            a = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            context = (a @ v).transpose(1, 0, 2).reshape(n, -1)
            x = self._norm(x + self._linear(context, f'{p}attention.output.dense'), f'{p}attention.output.LayerNorm')
            h = self._linear(x, f'{p}intermediate.dense')
            h = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h**3)))
            x = self._norm(x + self._linear(h, f'{p}output.dense'), f'{p}output.LayerNorm')
        return _unit(x.mean(0))

    def encode(self, texts):
        return np.stack([self.encode_one(t) for t in texts])


class WordLlama:
    def __init__(self, package):
        self.table = next(iter(load_file(f'{package}/weights/l2_supercat_256.safetensors').values())).astype(np.float32)
        self.tok = Tokenizer.from_file(f'{package}/tokenizers/l2_supercat_tokenizer_config.json')

    def encode(self, texts):
        rows = np.zeros((len(texts), self.table.shape[1]), np.float32)
        for i, text in enumerate(texts):
            ids = self.tok.encode(text, add_special_tokens=False).ids
            if ids:
                rows[i] = self.table[np.clip(ids, 0, len(self.table) - 1)].mean(0)
        return _unit(rows)
