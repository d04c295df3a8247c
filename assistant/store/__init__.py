"""What is kept and searched: documents embedded and written in batches (`ingest`) into the Chroma
store of passages, texts and versions and the whole store's BM25 index kept in step with it; the
embedding model, and the terms both rankings compare."""
