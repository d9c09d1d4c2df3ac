"""tools.download against a local HTTP server with Range support."""

import hashlib
import http.server
import os
import subprocess
import sys
import threading
import zipfile

import pytest

from svlr_tf.runtime.errors import DataError
from tools import download


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
  """Serves files from the test's directory; honours ``Range: bytes=a-``.

  ``server.cut_after`` (bytes) makes the next full response stop early, as a
  dropped connection would.
  """

  def log_message(self, *args):
    pass

  def do_GET(self):
    path = self.translate_path(self.path)
    if not os.path.isfile(path):
      self.send_error(404)
      return
    data = open(path, "rb").read()
    start = 0
    header = self.headers.get("Range")
    self.server.ranges.append(header)
    if header:
      start = int(header.split("=")[1].split("-")[0])
      if start >= len(data):
        self.send_error(416)
        return
      self.send_response(206)
      self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
    else:
      self.send_response(200)
    body = data[start:]
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    cut = self.server.cut_after
    if cut is not None:
      self.server.cut_after = None
      self.wfile.write(body[:cut])
      self.wfile.flush()
      self.close_connection = True
      return
    self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
  root = tmp_path / "remote"
  root.mkdir()

  def handler(*args, **kwargs):
    return _RangeHandler(*args, directory=str(root), **kwargs)

  httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  httpd.cut_after = None
  httpd.ranges = []
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  httpd.root = root
  httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
  yield httpd
  httpd.shutdown()
  httpd.server_close()


def _payload(n=300_000):
  return bytes((i * 7919) % 251 for i in range(n))


def test_download_resumes_with_range_after_a_dropped_connection(server, tmp_path):
  data = _payload()
  (server.root / "vectors.bin.gz").write_bytes(data)
  source = download.Source(server.url + "/vectors.bin.gz", "vectors.bin.gz",
                           size=len(data), md5=hashlib.md5(data).hexdigest())
  out = tmp_path / "out"
  out.mkdir()
  server.cut_after = 100_000
  with pytest.raises(DataError, match="resume"):
    download.download_file(source, str(out), chunk_bytes=8192)
  part = out / "vectors.bin.gz.part"
  assert 0 < part.stat().st_size < len(data)
  assert not (out / "vectors.bin.gz").exists()

  resumed_at = part.stat().st_size
  path = download.download_file(source, str(out), chunk_bytes=8192)
  assert server.ranges[-1] == f"bytes={resumed_at}-"
  assert open(path, "rb").read() == data
  assert not part.exists()
  # A second run does not fetch again.
  n = len(server.ranges)
  download.download_file(source, str(out))
  assert len(server.ranges) == n


def test_checksum_mismatch_removes_the_file(server, tmp_path):
  data = _payload(5000)
  (server.root / "a.json").write_bytes(data)
  source = download.Source(server.url + "/a.json", "a.json", md5="0" * 32)
  with pytest.raises(DataError, match="md5"):
    download.download_file(source, str(tmp_path))
  assert not (tmp_path / "a.json").exists()


def test_missing_remote_file_is_a_one_line_error(server, tmp_path):
  source = download.Source(server.url + "/nope.zip", "nope.zip")
  with pytest.raises(DataError, match="HTTP 404"):
    download.download_file(source, str(tmp_path))


def test_download_items_through_mirror_and_extract(server, tmp_path, monkeypatch):
  with zipfile.ZipFile(server.root / "Questions_Train_mscoco.zip", "w") as z:
    z.writestr("MultipleChoice_mscoco_train2014_questions.json", '{"questions": []}')
  (server.root / "GoogleNews-vectors-negative300.bin.gz").write_bytes(b"xyz")
  monkeypatch.setattr(download, "SOURCES", {
      "vqa": [download.Source("https://example.invalid/Questions_Train_mscoco.zip",
                              "Questions_Train_mscoco.zip", extract=True)],
      "word2vec": [download.Source("https://example.invalid/x",
                                   "GoogleNews-vectors-negative300.bin.gz", size=3)],
  })
  out = tmp_path / "raw"
  paths = download.download(["vqa", "word2vec"], str(out), mirror=server.url)
  assert len(paths) == 2
  assert (out / "MultipleChoice_mscoco_train2014_questions.json").read_text() == \
      '{"questions": []}'
  assert (out / "Questions_Train_mscoco.zip.extracted").exists()
  with pytest.raises(DataError, match="unknown item"):
    download.download(["imagenet"], str(out))


def test_url_table_covers_the_issue():
  names = {s.filename for sources in download.SOURCES.values() for s in sources}
  for expected in ("Questions_Train_mscoco.zip", "Annotations_Val_mscoco.zip",
                   "train2014.zip", "val2014.zip", "images.zip", "images2.zip",
                   "objects.json.zip", "attributes.json.zip", "image_data.json.zip",
                   "attribute_synsets.json.zip",
                   "GoogleNews-vectors-negative300.bin.gz"):
    assert expected in names


def test_cli_reports_a_data_error_on_one_line(server, tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run(
      [sys.executable, "-m", "tools.download", "--out", str(tmp_path),
       "--items", "word2vec", "--mirror", server.url],
      capture_output=True, text=True, env=env, timeout=60,
      cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
  assert result.returncode == 1
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(lines) == 1 and "HTTP 404" in lines[0]
  assert "Traceback" not in result.stderr


def test_edge_model_and_weights_are_items(server, tmp_path):
  model = b"%YAML:1.0\n" + _payload(4000)
  (server.root / "model.yml.gz").write_bytes(model)
  out = tmp_path / "raw"
  paths = download.download(["edge_model"], str(out), mirror=server.url)
  assert paths == [str(out / "model.yml.gz")]
  assert (out / "model.yml.gz").read_bytes() == model
  assert "edge_model" in download.DEFAULT_ITEMS and "resnet50" in download.DEFAULT_ITEMS
  weights = download.SOURCES["resnet50"][0]
  assert weights.filename == "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
  assert weights.md5  # keras' published md5 is checked


def test_old_out_dir_flag_still_works(server, tmp_path):
  (server.root / "model.yml.gz").write_bytes(b"m")
  result = subprocess.run(
      [sys.executable, "-m", "tools.download", "--out_dir", str(tmp_path / "raw"),
       "--items", "edge_model", "--mirror", server.url],
      capture_output=True, text=True, timeout=60,
      cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
  assert result.returncode == 0, result.stderr
  assert (tmp_path / "raw" / "model.yml.gz").read_bytes() == b"m"
