"""From text to a clean typed graph: chunking, a relation schema, entity resolution.

:func:`parse_graph` is the pipeline (chunk, extract with an LLM, map onto a schema,
resolve entities); its parts are usable alone: :func:`chunk_text`,
:class:`ExtractionSchema`, :class:`Resolver`. :mod:`kgaug.extraction.corpus` makes texts
whose facts are known (from a graph) and scripted models to measure an extraction with
(:func:`score_graph`).
"""

from kgaug.extraction.chunking import Chunk, ChunkSpec, chunk_text, split_sentences
from kgaug.extraction.parse import DroppedFact, FailedChunk, ParsedFact, ParseResult, parse_graph
from kgaug.extraction.resolve import (
    BUILTIN_ALIASES,
    HONORIFICS,
    Ambiguous,
    Conflict,
    Merge,
    Resolution,
    Resolver,
    name_key,
    read_aliases,
)
from kgaug.extraction.schema import COMMON_PHRASINGS, ExtractionSchema, RelationSpec, relation_key

__all__ = [
    "BUILTIN_ALIASES",
    "COMMON_PHRASINGS",
    "HONORIFICS",
    "Ambiguous",
    "Chunk",
    "ChunkSpec",
    "Conflict",
    "DroppedFact",
    "ExtractionSchema",
    "FailedChunk",
    "Merge",
    "ParseResult",
    "ParsedFact",
    "RelationSpec",
    "Resolution",
    "Resolver",
    "chunk_text",
    "name_key",
    "parse_graph",
    "read_aliases",
    "relation_key",
    "split_sentences",
]
