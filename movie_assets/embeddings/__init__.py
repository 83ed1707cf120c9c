"""Text embeddings and a nearest-neighbour index over the `movies` table.

Plain Python, no Dagster: `text` builds one document per movie, `model` loads the pinned offline
all-MiniLM-L6-v2 weights, `encode` embeds incrementally by content hash, `index` builds and saves the
FAISS index, `search` answers "movies similar to <title>". Heavy imports (torch, sentence-transformers)
happen only when a model is loaded.
"""
