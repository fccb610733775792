"""A real MJPEG stream over HTTP (as IP cameras serve) read through OpenCV's FFmpeg."""

import http.server
import io
import socketserver
import threading
import time

import numpy as np
import pytest
from PIL import Image

from datapalooza.sources.base import SourceUnavailable
from datapalooza.sources.spec import open_source

FRAME_S = 0.04


def _jpeg(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((120, 160, 3), value, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


class MjpegCamera(http.server.BaseHTTPRequestHandler):
    """An IP camera: frame n is a flat grey of brightness n (so a test can tell frames
    apart), pushed every FRAME_S seconds as multipart/x-mixed-replace."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for n in range(250):
                data = _jpeg(n)
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                    + data
                    + b"\r\n"
                )
                time.sleep(FRAME_S)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def camera_url():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), MjpegCamera)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg", server
    server.shutdown()
    server.server_close()


def read_frame(source, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return source.read()
        except SourceUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_an_http_stream_gives_the_newest_frame_not_a_backlog(camera_url):
    url, _ = camera_url
    source = open_source(url, stage="main")
    try:
        first = read_frame(source)
        assert first.image.shape == (120, 160, 3)
        time.sleep(1.0)  # the camera pushes ~25 frames meanwhile
        later = read_frame(source)
        # A queue would hand over the next frame (brightness +1); newest-wins skips ahead.
        assert int(later.image.mean()) - int(first.image.mean()) >= 10
        assert later.frame_id != first.frame_id
    finally:
        source.close()
