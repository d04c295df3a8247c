"""Sources in, passages out: files, folders, archives and uploads read as `Document`s and split
into sentence `Chunk`s with their offsets."""
