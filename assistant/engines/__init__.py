"""Chat models behind one ``Generator`` interface (``base``), chosen in one place (``factory``).

Engines: ``transformers`` (the packaged Qwen2.5-Coder on the CPU, the default), ``llamacpp`` (the
same weights as GGUF in llama.cpp) and ``openai`` (any OpenAI-compatible server). ``kvstore`` saves
slide-prefix KV caches beside the model; ``decoding/`` holds the transformers engine's own loop.
"""
