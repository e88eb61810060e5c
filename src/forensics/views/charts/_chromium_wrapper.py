"""Become Chromium with the DevTools pipe on fds 3 and 4 and nothing else on it.

choreographer starts the browser as ``python WRAPPER CHROMIUM ARGS...``
with the pipe to the browser as standard input and the pipe from it as
standard output. Chromium reads fd 3 and writes fd 4, so they are copied
there; then standard output is pointed at standard error and standard input
at /dev/null, so that nothing printed can enter the protocol stream.
Imports nothing: it runs once per export.
"""

import os
import sys

__all__: list[str] = []

os.dup2(0, 3)
os.dup2(1, 4)
os.set_inheritable(3, True)
os.set_inheritable(4, True)
os.dup2(2, 1)
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
os.execv(sys.argv[1], sys.argv[1:])
