"""What is kept and searched: the Chroma store of passages, texts and versions, the whole store's
BM25 index kept in step with it, the embedding model and the terms both rankings compare."""
