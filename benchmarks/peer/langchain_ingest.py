"""The ingestion a LangChain tutorial builds, run in its own venv by benchmarks/ingest_peer.py.

    python langchain_ingest.py MINILM_DIR PERSIST_DIR PDF...

PyPDFLoader -> RecursiveCharacterTextSplitter(1000, 200) -> HuggingFaceEmbeddings (the same bundled
MiniLM folder) -> Chroma via langchain-chroma. Prints one JSON line with the figures.
"""

import json
import os
import resource
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

t_start = time.perf_counter()
from langchain_chroma import Chroma  # noqa: E402
from langchain_community.document_loaders import PyPDFLoader  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402

model_dir, persist, pdfs = sys.argv[1], sys.argv[2], sys.argv[3:]
emb = HuggingFaceEmbeddings(model_name=model_dir, model_kwargs={"device": "cpu"})
emb.embed_query("warm up")  # model load, outside the timed part (as for ragmed)
t0 = time.perf_counter()
pages = []
for p in pdfs:
    pages += PyPDFLoader(p).load()
chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(pages)
Chroma.from_documents(chunks, emb, persist_directory=persist, collection_name="peer")
seconds = time.perf_counter() - t0
tok = emb._client.tokenizer
lengths = [len(tok(c.page_content, add_special_tokens=True)["input_ids"]) for c in chunks]
limit = emb._client.max_seq_length
print(json.dumps({
    "seconds": seconds, "pages": len(pages), "chunks": len(chunks),
    "tokens_embedded": sum(min(n, limit) for n in lengths), "truncated": sum(n > limit for n in lengths),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
