package dev.eventloopguardian.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A real headless Chromium (Debian's {@code chromium}), driven through the Chrome DevTools
 * Protocol over the JDK's own WebSocket client: for tests that open a page we write and look at
 * what the browser made of it. {@link #open} loads a file and records, while it loads and its
 * scripts run, every console error, uncaught exception, error logged by the browser (a blocked
 * request, a Content-Security-Policy violation) and every request for anything but the file itself.
 *
 * <p>Tests that need it call {@link #start}: where chromium is not installed they are skipped,
 * with the reason printed, unless {@code EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1} (as in CI, which
 * installs it) makes that a failure.
 */
public final class Chromium implements AutoCloseable {
    private static final Duration STARTUP = Duration.ofSeconds(30);
    private static final Duration ANSWER = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What happened while a page loaded and its scripts ran. */
    public record PageLoad(List<String> errors, List<String> requests) {
    }

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> answers = new ConcurrentHashMap<>();
    private final List<JsonNode> events = new ArrayList<>();

    private Chromium(Process process, WebSocket socket, Listener listener) {
        this.process = process;
        this.socket = socket;
        listener.onMessage = this::received;
    }

    /** The chromium on this machine; a skip or a failure, as the class says, where there is none. */
    public static Path executable() {
        for (String directory : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin").split(":")) {
            Path candidate = Path.of(directory.isEmpty() ? "." : directory, "chromium");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw KernelCondition.missing("chromium is not installed (apt-get install chromium)", "browser tests");
    }

    /**
     * Starts a headless Chromium with a fresh profile in {@code scratch}, its window
     * {@code width} by {@code height} pixels, and connects to its blank page.
     */
    public static Chromium start(Path scratch, int width, int height) throws IOException, InterruptedException {
        Path profile = Files.createDirectories(scratch.resolve("chromium-profile"));
        // The flags that keep Chromium from reaching out on its own (updates, sync, field trials),
        // which this machine's closed network would refuse, and which are not the page's requests.
        Process process = new ProcessBuilder(executable().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
                "--mute-audio", "--hide-scrollbars", "--window-size=" + width + "," + height,
                "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).redirectOutput(scratch.resolve("chromium.log").toFile()).start();
        try {
            int port = devToolsPort(profile, process, scratch.resolve("chromium.log"));
            Listener listener = new Listener();
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(pageSocket(port), listener).get(ANSWER.toSeconds(), TimeUnit.SECONDS);
            return new Chromium(process, socket, listener);
        } catch (Exception e) {
            stop(process);
            throw new AssertionError("cannot connect to chromium's DevTools: " + e
                    + "\n" + Files.readString(scratch.resolve("chromium.log")), e);
        }
    }

    /** The port Chromium chose, which it writes into DevToolsActivePort of its profile once it listens. */
    private static int devToolsPort(Path profile, Process process, Path log) throws IOException, InterruptedException {
        Path activePort = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(activePort)) {
                List<String> lines = Files.readAllLines(activePort);
                if (!lines.isEmpty() && !lines.getFirst().isBlank()) {
                    return Integer.parseInt(lines.getFirst().strip());
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("chromium exited with status " + process.exitValue() + ":\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("chromium did not listen for DevTools within " + STARTUP.toSeconds() + " s:\n"
                + Files.readString(log));
    }

    /** The WebSocket of the browser's first page, as its /json/list says. */
    private static URI pageSocket(int port) throws IOException, InterruptedException {
        HttpResponse<String> targets = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString());
        for (JsonNode target : JSON.readTree(targets.body())) {
            if (target.get("type").asText().equals("page")) {
                return URI.create(target.get("webSocketDebuggerUrl").asText());
            }
        }
        throw new AssertionError("chromium has no page: " + targets.body());
    }

    /** Sends a DevTools command and waits for its result; an error answer is a failure. */
    public JsonNode send(String method, Consumer<ObjectNode> parameters) {
        int id = ids.incrementAndGet();
        ObjectNode command = JSON.createObjectNode().put("id", id).put("method", method);
        parameters.accept(command.putObject("params"));
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        answers.put(id, answer);
        socket.sendText(command.toString(), true).join();
        try {
            JsonNode reply = answer.get(ANSWER.toSeconds(), TimeUnit.SECONDS);
            if (reply.has("error")) {
                throw new AssertionError(method + " failed: " + reply.get("error"));
            }
            return reply.get("result");
        } catch (Exception e) {
            throw new AssertionError(method + " got no answer", e);
        } finally {
            answers.remove(id);
        }
    }

    public JsonNode send(String method) {
        return send(method, parameters -> {
        });
    }

    /**
     * Opens {@code file} and waits until it has loaded and two frames have been drawn since (its
     * scripts have run and laid the page out); returns what went wrong meanwhile.
     */
    public PageLoad open(Path file) {
        for (String domain : List.of("Page", "Runtime", "Log", "Network")) {
            send(domain + ".enable");
        }
        int seen = eventCount();
        String url = file.toUri().toString();
        send("Page.navigate", parameters -> parameters.put("url", url));
        awaitEvent("Page.loadEventFired", seen);
        evaluate("new Promise(drawn => requestAnimationFrame(() => requestAnimationFrame(() => drawn(true))))");
        List<String> errors = new ArrayList<>();
        List<String> requests = new ArrayList<>();
        synchronized (events) {
            for (JsonNode event : events.subList(seen, events.size())) {
                JsonNode parameters = event.get("params");
                switch (event.get("method").asText()) {
                    case "Runtime.exceptionThrown" -> errors.add("uncaught: " + parameters.get("exceptionDetails")
                            .path("exception").path("description").asText(parameters.get("exceptionDetails").toString()));
                    case "Runtime.consoleAPICalled" -> {
                        if (parameters.get("type").asText().matches("error|assert")) {
                            errors.add("console." + parameters.get("type").asText() + ": " + parameters.get("args"));
                        }
                    }
                    case "Log.entryAdded" -> {
                        if (parameters.get("entry").get("level").asText().equals("error")) {
                            errors.add("log: " + parameters.get("entry"));
                        }
                    }
                    case "Network.requestWillBeSent" -> {
                        String requested = parameters.get("request").get("url").asText();
                        if (!requested.equals(url)) {
                            requests.add(requested);
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        return new PageLoad(errors, requests);
    }

    /** The value of {@code expression} evaluated in the page (a promise is awaited), as JSON. */
    public JsonNode evaluate(String expression) {
        JsonNode result = send("Runtime.evaluate", parameters -> parameters.put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new AssertionError("the page threw: " + result.get("exceptionDetails"));
        }
        return result.get("result").get("value");
    }

    /** A PNG of the whole page, beyond the window too. */
    public byte[] screenshot() {
        JsonNode size = send("Page.getLayoutMetrics").get("cssContentSize");
        JsonNode shot = send("Page.captureScreenshot", parameters -> {
            parameters.put("format", "png").put("captureBeyondViewport", true);
            parameters.putObject("clip").put("x", 0).put("y", 0).put("width", size.get("width").asDouble())
                    .put("height", size.get("height").asDouble()).put("scale", 1);
        });
        return Base64.getDecoder().decode(shot.get("data").asText());
    }

    private int eventCount() {
        synchronized (events) {
            return events.size();
        }
    }

    private void awaitEvent(String method, int after) {
        long deadline = System.nanoTime() + ANSWER.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (events) {
                List<JsonNode> since = events.subList(after, events.size());
                if (since.stream().anyMatch(event -> event.get("method").asText().equals(method))) {
                    return;
                }
                try {
                    events.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }
        throw new AssertionError("no " + method + " within " + ANSWER.toSeconds() + " s");
    }

    private void received(String message) {
        try {
            JsonNode json = JSON.readTree(message);
            if (json.has("id")) {
                Optional.ofNullable(answers.get(json.get("id").asInt())).ifPresent(answer -> answer.complete(json));
            } else {
                synchronized (events) {
                    events.add(json);
                    events.notifyAll();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("chromium sent what is not JSON: " + message, e);
        }
    }

    /** Gathers each message from its fragments: a screenshot comes in many. */
    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder message = new StringBuilder();
        private volatile Consumer<String> onMessage = text -> {
        };

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                String whole = message.toString();
                message.setLength(0);
                onMessage.accept(whole);
            }
            socket.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        socket.abort();
        stop(process);
    }

    /** Ends the browser we started, and the processes it started (renderer, zygote, GPU). */
    private static void stop(Process process) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }
}
