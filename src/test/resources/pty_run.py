# Runs a command on a new pseudo-terminal, as if a person started it in a terminal, and
# reports how it ended: "STATUS signal N [core]" or "STATUS exit N". If the command is still
# waiting for input after a few seconds, types exit() so that an unguarded REPL ends cleanly.
import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

output = b""
deadline = time.monotonic() + 5
typed = False
while True:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
    elif time.monotonic() > deadline and not typed:
        os.write(fd, b"exit()\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace"))
if os.WIFSIGNALED(status):
    print("\nSTATUS signal %d%s" % (os.WTERMSIG(status), " core" if os.WCOREDUMP(status) else ""))
else:
    print("\nSTATUS exit %d" % os.WEXITSTATUS(status))
