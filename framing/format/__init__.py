"""The data contract: annotation records, the codebook, validation and JSONL I/O."""
