"""The three stacks, one per workshop challenge: they compose constructs and make the
grants between them, where a reader sees who may do what."""
