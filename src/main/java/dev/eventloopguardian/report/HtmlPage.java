package dev.eventloopguardian.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The HTML report as one self-contained file: our own style and script (resources beside this
 * class, a few hundred lines, no library) inlined into the page, and the report's data embedded as
 * JSON. Nothing is fetched when it is viewed: no CDN, no font, no image; its Content-Security-Policy
 * allows no request at all, and runs only the two inline blocks it names by their hashes.
 *
 * <p>Thread names and symbols come from the guarded program, which may name them anything. They
 * reach the page only inside the JSON, in a {@code <script type="application/json">} element, with
 * every character that could end that element or a JavaScript string written as a six-character
 * JSON escape ({@link #scriptSafe}); the script puts them into the page as text, never as markup.
 */
final class HtmlPage {
    private static final String TEMPLATE = "html-report.html";
    private static final String STYLE = "html-report.css";
    private static final String SCRIPT = "html-report.js";

    private HtmlPage() {
    }

    /** Writes the page with {@code json} as its data; the writer belongs to the caller. */
    static void write(Writer out, String json) throws IOException {
        out.write(page(json));
        out.flush();
    }

    static String page(String json) {
        String style = resource(STYLE);
        String script = resource(SCRIPT);
        // The data goes in last: what it holds is never searched for the other markers.
        return resource(TEMPLATE)
                .replace("{{STYLE_HASH}}", sha256(style))
                .replace("{{SCRIPT_HASH}}", sha256(script))
                .replace("{{STYLE}}", style)
                .replace("{{SCRIPT}}", script)
                .replace("{{DATA}}", scriptSafe(json));
    }

    /**
     * {@code json} with {@code <}, {@code >} and {@code &} written as JSON escapes, so that no
     * {@code </script>} or {@code <!--} can end or change the element it is embedded in, and with
     * U+2028 and U+2029, which some JavaScript parsers take for line ends, escaped too. Outside
     * strings, JSON has none of these characters, so escaping them everywhere escapes them only in
     * strings, where the escape means the same character.
     */
    static String scriptSafe(String json) {
        StringBuilder safe = new StringBuilder(json.length() + 64);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '<', '>', '&', '\u2028', '\u2029' -> safe.append(String.format("\\u%04x", (int) c));
                default -> safe.append(c);
            }
        }
        return safe.toString();
    }

    /** The CSP source that allows exactly {@code inline}, the text of one inline block. */
    private static String sha256(String inline) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(inline.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String resource(String name) {
        try (InputStream in = HtmlPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks the HTML report's " + name + ": a broken build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the HTML report's " + name, e);
        }
    }
}
