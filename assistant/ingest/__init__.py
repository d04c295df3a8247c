"""Sources in, passages out: files, folders, archives and uploads read as `Document`s, split into
sentence `Chunk`s with their offsets, and written in batches into the store."""
