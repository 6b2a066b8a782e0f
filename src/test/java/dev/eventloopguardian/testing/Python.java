package dev.eventloopguardian.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's real python3 binary. {@code python3} on PATH may be a shell shim (pyenv)
 * whose shell waits on children, which the guard rightly stops; tests want the interpreter.
 */
public final class Python {
    private static final String EXECUTABLE = find();

    /**
     * An asyncio loop on a thread named event-loop-1 whose handler blocks it with time.sleep, 20 ms
     * every 100 ms, for two minutes at most; the main thread waits for it (in futex, allowed).
     */
    public static final String ASYNCIO_LOOP = String.join("\n",
            "import asyncio, ctypes, threading, time",
            "libc = ctypes.CDLL(None)",
            "async def handler():",
            "    time.sleep(0.02)",
            "async def serve():",
            "    for _ in range(1200):",
            "        await handler()",
            "        await asyncio.sleep(0.08)",
            "def loop():",
            "    libc.prctl(15, b'event-loop-1', 0, 0, 0)",
            "    asyncio.run(serve())",
            "t = threading.Thread(target=loop)",
            "t.start()",
            "t.join()");

    private Python() {
    }

    public static String executable() {
        return EXECUTABLE;
    }

    private static String find() {
        try {
            Process probe = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)").start();
            String path = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (probe.waitFor() == 0 && Files.isExecutable(Path.of(path))) {
                return path;
            }
        } catch (IOException e) {
            // fall through to the system interpreter
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
            return "/usr/bin/python3";
        }
        throw new AssertionError("no python3 on this machine: install it (apt-get install python3)");
    }
}
