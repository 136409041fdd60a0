"""Privacy: ingest and ask work end to end with every outbound socket blocked, and attempt none."""

import subprocess
import sys

from conftest import SAMPLE_PDF
from support.net import socket_guard

GUARD = socket_guard(allow_loopback=False) + r'''
import atexit, sys
atexit.register(lambda: print("NETWORK-ATTEMPTS:", len(attempts), attempts, file=sys.stderr))
from ragmed.cli import main
main(sys.argv[1:])
'''


def _run(args):
    return subprocess.run([sys.executable, "-c", GUARD, *args], capture_output=True, text=True, timeout=900)


def test_ingest_and_ask_with_sockets_blocked(tmp_path):
    common = ["--collection", "offline", "--index-dir", str(tmp_path)]
    out = _run(["ingest", str(SAMPLE_PDF), *common])
    assert out.returncode == 0, out.stderr
    assert "NETWORK-ATTEMPTS: 0 []" in out.stderr, out.stderr
    question = "How long should a patient rest before the first reading?"
    out = _run(["ask", question, *common, "--max-tokens", "48"])
    assert out.returncode in (0, 3), out.stderr  # 3: answered nothing checked (withheld); still offline
    assert "NETWORK-ATTEMPTS: 0 []" in out.stderr, out.stderr
    # Question and document text stay out of logs, even at info level.
    out = _run(["-v", "search", question, *common])
    assert out.returncode == 0
    assert question not in out.stderr and "Patients should rest" not in out.stderr
