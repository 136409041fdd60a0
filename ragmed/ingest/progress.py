"""The ingest progress line (stderr): files, pages and chunks done, and an estimate of time left.

Pages are not known before a file is parsed, so the estimate is by bytes: the files still to be
parsed and embedded, weighed by size (a file's parse and embed time grows with its size), the rate
being the bytes done per second so far (tqdm's running estimate). Files that need no work
(unchanged, moved, duplicates) are counted before the line starts and take no time.
Example: `ingest 3/8 files, 412 pages, 1,930 chunks |████▌     | 4.1M/9.0M [01:02<01:14]`.
"""

from __future__ import annotations

import sys
from pathlib import Path


class Progress:
    """A tqdm bar over the bytes of the files to ingest, with pages and chunks in its description."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.files = self.pages = self.chunks = 0
        self.total_files = 0

    def start(self, files: list[Path]) -> None:
        if not self.enabled or not files:
            return
        from tqdm import tqdm

        sizes = []
        for f in files:
            try:
                sizes.append(f.stat().st_size)
            except OSError:
                sizes.append(0)
        self.total_files = len(files)
        self.bar = tqdm(total=sum(sizes), unit="B", unit_scale=True, file=sys.stderr, leave=False,
                        bar_format="{desc} |{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")
        self._describe()

    def done(self, f: Path, report) -> None:
        """One file finished (its DocumentReport gives the pages and chunks)."""
        if self.bar is None:
            return
        self.files += 1
        self.pages += report.pages or 0
        self.chunks += report.chunks or 0
        try:
            size = f.stat().st_size
        except OSError:
            size = 0
        self._describe()
        self.bar.update(size)

    def _describe(self) -> None:
        self.bar.set_description_str(f"ingest {self.files}/{self.total_files} files, {self.pages:,} pages, "
                                     f"{self.chunks:,} chunks", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
