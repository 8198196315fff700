import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnlab import fileio
from cnnlab.fileio import atomic_path, file_digest, md5_file, sha256_file, write_text_atomic

# A writer process: loads cnnlab/fileio.py by path (no TensorFlow import, so it starts in a fraction
# of a second), waits for a common start time, then writes its own payload atomically `rounds` times.
WRITER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("fileio", sys.argv[1])
fileio = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fileio)
target, tag, start, rounds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
payload = bytes([tag]) * (4 << 20)
while time.time() < start:
    time.sleep(0.001)
for _ in range(rounds):
    with fileio.atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            for i in range(0, len(payload), 1 << 18):  # several writes, so a torn file would show
                f.write(payload[i:i + (1 << 18)])
"""


def test_two_processes_writing_one_cache_leave_a_complete_file(tmp_path):
    target = tmp_path / "features-k1.npz"
    start = time.time() + 1.0
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, fileio.__file__, str(target), str(tag), str(start), "8"])
               for tag in (1, 2)]
    complete = {bytes([tag]) * (4 << 20) for tag in (1, 2)}
    seen = 0
    while any(w.poll() is None for w in writers):  # read while they write: never a torn file
        if target.exists():
            assert target.read_bytes() in complete
            seen += 1
    assert [w.wait() for w in writers] == [0, 0]
    assert target.read_bytes() in complete
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary files left
    assert seen > 0


def test_interrupted_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "a.weights.h5"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        assert tmp.name.endswith(".weights.h5") and tmp.parent == tmp_path
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.weights.h5"]


def test_written_files_get_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "x.txt"
    write_text_atomic(path, "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert path.stat().st_mode & 0o644 == 0o644


def test_digests(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert sha256_file(path).startswith("ba7816bf")
    assert md5_file(path) == "900150983cd24fb0d6963f7d28e17f72"
    assert file_digest(path, "sha1").startswith("a9993e36")


def test_a_folder_is_not_a_target(tmp_path):
    with pytest.raises(ValueError, match="path: expected a file path"), atomic_path(tmp_path):
        pass
    assert Path(tmp_path).is_dir()
