"""Content-Encoding decoders that never produce more than a byte budget.

httpx's own decoders inflate each network chunk in one go: a 64 KiB chunk of a gzip bomb becomes
64 MiB in memory before anyone can count it. These stop at the budget instead, so a 1 GiB bomb
costs at most `budget` bytes of memory before `ResponseTooLargeError`.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class BudgetExceeded(Exception):  # internal signal, turned into ResponseTooLargeError
    """Decoding would produce more than the budget."""


class BoundedDecoder(Protocol):
    def decode(self, data: bytes, budget: int) -> bytes:
        """Decode `data`; raise BudgetExceeded rather than return more than `budget` bytes."""
        ...

    def flush(self, budget: int) -> bytes: ...


class IdentityDecoder:
    def decode(self, data: bytes, budget: int) -> bytes:
        if len(data) > budget:
            raise BudgetExceeded
        return data

    def flush(self, budget: int) -> bytes:
        return b""


class ZlibDecoder:
    """gzip, or deflate (zlib-wrapped as the RFC says, or raw as many servers send it)."""

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._first_chunk = True

    def decode(self, data: bytes, budget: int) -> bytes:
        was_first, self._first_chunk = self._first_chunk, False
        try:
            # max_length = budget + 1: producing that much proves the budget is exceeded.
            output = self._decompressor.decompress(data, budget + 1)
        except zlib.error:
            if self._gzip or not was_first:
                raise
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            output = self._decompressor.decompress(data, budget + 1)
        if len(output) > budget:
            raise BudgetExceeded
        return output

    def flush(self, budget: int) -> bytes:
        output = self._decompressor.flush()
        if len(output) > budget:
            raise BudgetExceeded
        return output


def _brotli_can_cap_output() -> bool:
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except TypeError:
        return False
    return True


# brotli < 1.2 cannot cap its output; then a chunk is inflated whole and only checked afterwards.
_BROTLI_CAPS_OUTPUT = _brotli_can_cap_output()


class BrotliDecoder:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes, budget: int) -> bytes:
        if not _BROTLI_CAPS_OUTPUT:
            output = self._decompressor.process(data)
            if len(output) > budget:
                raise BudgetExceeded
            return output
        chunks: list[bytes] = []
        produced = 0
        output = self._decompressor.process(data, output_buffer_limit=budget + 1)
        while True:
            produced += len(output)
            if produced > budget:
                raise BudgetExceeded
            chunks.append(output)
            # Output was capped: brotli keeps the rest and wants empty calls until it can take input.
            if self._decompressor.can_accept_more_data():
                return b"".join(chunks)
            output = self._decompressor.process(b"", output_buffer_limit=budget - produced + 1)

    def flush(self, budget: int) -> bytes:
        return b""


class MultiDecoder:
    """`Content-Encoding: gzip, br` means gzip first, then br: decode in the reverse order."""

    def __init__(self, decoders: list[BoundedDecoder]) -> None:
        self._decoders = list(reversed(decoders))

    def decode(self, data: bytes, budget: int) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data, budget)
        return data

    def flush(self, budget: int) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data, budget) + decoder.flush(budget)
        return data


def decoder_for(content_encoding: str | None) -> BoundedDecoder:
    """The decoder for a Content-Encoding header; unknown codings pass through, as httpx does."""
    names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
    decoders = [_single_decoder(name) for name in names if name != "identity"]
    if not decoders:
        return IdentityDecoder()
    return decoders[0] if len(decoders) == 1 else MultiDecoder(decoders)


def _single_decoder(name: str) -> BoundedDecoder:
    if name in ("gzip", "x-gzip"):
        return ZlibDecoder(gzip=True)
    if name == "deflate":
        return ZlibDecoder(gzip=False)
    if name == "br":
        return BrotliDecoder()
    return IdentityDecoder()
