"""Turn-level features: text embeddings and the features built on them."""
