"""A tiny SMTP server on a thread (RFC 5321's plain subset: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).

`FakeSmtp.refusing()` holds a port with nothing listening on it, so a connection is
refused, until `start()` begins accepting mail on that same port.
"""

import socket
import socketserver
import threading
from email import message_from_bytes, policy


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        server = self.server.fake
        self.reply("220 fake-smtp ready")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-fake-smtp\r\n250 8BITMIME\r\n")
            elif verb == "HELO" or verb == "NOOP":
                self.reply("250 ok")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(), []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.messages.append((sender, recipients, message_from_bytes(b"".join(data), policy=policy.default)))
                self.reply("250 queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSmtp:
    def __init__(self, port: int):
        self.port = port
        self.messages = []
        self._server = None

    @classmethod
    def refusing(cls) -> "FakeSmtp":
        # Find a free port and leave it closed: connecting to it is refused.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return cls(port)

    def start(self) -> "FakeSmtp":
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
