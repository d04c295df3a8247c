"""A question in, a cited answer out: retrieval, what the question asks, the features and trained
models that pick the sentences or decline, the reader, the answer record and its text, follow-ups,
and the optional language-model answerer with its checks."""
