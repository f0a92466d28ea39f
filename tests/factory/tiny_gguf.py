"""A tiny llama-architecture GGUF model with random weights, written with the `gguf`
package: two layers of 64 dimensions and a vocabulary of printable ASCII, tab, newline
and the 256 byte tokens (SentencePiece-style, "▁" for a space), complete enough for
llama.cpp to load and tokenize any text. Its answers are noise, but JSON-Schema-constrained decoding
makes them valid JSON, which is what a test of the protocol needs."""

from pathlib import Path

import gguf
import numpy as np

EMBED, LAYERS, HEADS, FF = 64, 2, 4, 128
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    # Byte tokens read any other character of a prompt; `write` keeps the model from
    # answering with them (random bytes are invalid UTF-8, which the server answers as
    # U+FFFD: a string longer than the grammar allowed).
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    for code in (0x09, 0x0A, *range(0x20, 0x7F)):
        tokens.append("▁" if code == 0x20 else chr(code))
        types.append(gguf.TokenType.NORMAL)
    scores = [0.0] * 3 + [-1000.0] * 256 + [-1.0] * (len(tokens) - 259)
    return tokens, scores, [int(t) for t in types]


def write(path: Path, seed: int = 0) -> Path:
    tokens, scores, types = vocabulary()
    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.5).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tzzr-tiny-random")
    writer.add_context_length(32768)
    writer.add_embedding_length(EMBED)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(EMBED // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(TEMPLATE)
    vocab = len(tokens)
    writer.add_tensor("token_embd.weight", weights(vocab, EMBED))
    writer.add_tensor("output_norm.weight", np.ones(EMBED, dtype=np.float32))
    # Byte tokens get a logit of 0 and every character one of about ±40: with the
    # grammar's choice of characters, a byte token is never the likely one.
    output = weights(vocab, EMBED) * 20
    output[3:259] = 0.0
    writer.add_tensor("output.weight", output)
    for n in range(LAYERS):
        block = f"blk.{n}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(EMBED, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", weights(EMBED, EMBED))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(EMBED, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", weights(FF, EMBED))
        writer.add_tensor(f"{block}.ffn_up.weight", weights(FF, EMBED))
        writer.add_tensor(f"{block}.ffn_down.weight", weights(EMBED, FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
