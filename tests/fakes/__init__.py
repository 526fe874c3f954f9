"""Local fake platform servers for the source tests: real sockets on threads."""
