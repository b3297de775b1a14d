"""The transformers engine's decoding internals: int4 weights, a preallocated KV buffer, grouped
attention for one query row, and the greedy loop with prompt-lookup drafts.
"""
