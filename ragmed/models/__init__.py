"""Chat models: the registry of known models (`registry.py`) and the local model store (`store.py`)."""
