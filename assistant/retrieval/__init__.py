"""Finding the slides for a question: the embedders (sentence-transformers for slides, an ONNX
encoder for questions) and the hybrid FAISS + BM25 retriever with its answerability score.
"""
