package dev.eventloopguardian.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page as a file: self-contained, and safe from what the guarded program names its threads and
 * symbols. HtmlReportInChromiumTest opens it in a browser.
 */
class HtmlPageTest {
    /** A thread name and a symbol that try to end the data element and run their own script. */
    static final String HOSTILE_THREAD = "</script><script>window.injected=1</script><!--";
    static final String HOSTILE_SYMBOL = "<img src=x onerror=\"window.injected=2\">&amp;\u2028\u2029+0x10 (evil.so)";

    /** The text between {@code open} and the {@code close} that follows it. */
    private static String between(String page, String open, String close) {
        int start = page.indexOf(open);
        assertThat(start).as("the page has " + open).isNotNegative();
        return page.substring(start + open.length(), page.indexOf(close, start));
    }

    @Test
    void scriptSafeEscapesWhatCouldEndTheElementOrAString() {
        assertThat(HtmlPage.scriptSafe("{\"a\":\"</script><!-- & \u2028\u2029\"}"))
                .isEqualTo("{\"a\":\"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029\"}");
        assertThat(HtmlPage.scriptSafe("{\"plain\":[1,2.5,true,null]}")).isEqualTo("{\"plain\":[1,2.5,true,null]}");
    }

    @Test
    void namesFromTheProgramStayInsideTheDataAndReadBackTheSame() throws Exception {
        HtmlReport report = new HtmlReport(10, HtmlReportTest.START, HtmlReportTest.START_EPOCH_MILLIS);
        report.sleep(HtmlReportTest.event(HOSTILE_THREAD, 7, 0, "read", List.of(HOSTILE_SYMBOL), Optional.empty(),
                OptionalLong.of(1_000)));
        StringWriter page = new StringWriter();
        report.write(page, 0);
        String html = page.toString();

        assertThat(html.split("<script", -1)).as("two script elements, none injected").hasSize(3);
        assertThat(html).doesNotContain("window.injected=1</script>", "<img", "\u2028", "\u2029");
        String data = between(html, "<script type=\"application/json\" id=\"report-data\">", "</script>");
        assertThat(data).doesNotContain("<", ">", "&");
        JsonNode json = new ObjectMapper().readTree(data);
        assertThat(json.get("threads").get(0).get("name").asText()).isEqualTo(HOSTILE_THREAD);
        assertThat(json.get("frames").get(0).get(0).asText()).isEqualTo(HOSTILE_SYMBOL.replace("+0x10", ""));
    }

    @Test
    void thePageFetchesNothingAndRunsOnlyItsOwnScript() throws Exception {
        String html = HtmlPage.page("{}");
        // No attribute or rule that loads anything; the only URL is SVG's namespace, which is a name, not a request.
        assertThat(html).doesNotContainPattern("(?i)\\s(src|href)\\s*=")
                .doesNotContainPattern("(?i)url\\(|@import|@font-face")
                .doesNotContainPattern("https?://(?!www\\.w3\\.org/2000/svg)");
        String style = between(html, "<style>", "</style>");
        String script = between(html, "<script>", "</script>");
        Matcher policy = Pattern.compile("content=\"default-src 'none'; style-src '(sha256-[^']+)'; script-src '(sha256-[^']+)';")
                .matcher(html);
        assertThat(policy.find()).as("a Content-Security-Policy with hashes").isTrue();
        assertThat(policy.group(1)).isEqualTo(sha256(style));
        assertThat(policy.group(2)).isEqualTo(sha256(script));
        assertThat(script).as("our script can be inlined as it is").doesNotContain("</script", "<!--")
                .doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
    }

    private static String sha256(String text) throws Exception {
        return "sha256-" + Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
