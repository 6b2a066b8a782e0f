package dev.eventloopguardian.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTML report ({@code --html}) as a browser draws it: opened in Chromium, checked to load with
 * no error and no request, read back from the DOM once its script has run, and kept as a
 * screenshot under {@code target/html-report/} for people to look at.
 */
public final class ReportPages {
    /** Where the screenshots go: a build artifact. */
    public static final Path SCREENSHOTS = Path.of("target", "html-report");

    /**
     * What the page shows: the flame graph's boxes, the timeline's marks, the tables' rows, and
     * all its text.
     */
    public record Drawn(List<String> frames, int marks, List<String> tableRows, String text) {
    }

    private ReportPages() {
    }

    /**
     * Opens {@code html}, asserts that it loaded with no console error, no uncaught exception and
     * no request for anything but itself, saves a screenshot as {@code NAME.png}, and returns what it drew.
     */
    public static Drawn check(Chromium chromium, Path html, String name) throws IOException {
        Chromium.PageLoad load = chromium.open(html);
        assertThat(load.errors()).as("console errors, uncaught exceptions and errors the browser logged").isEmpty();
        assertThat(load.requests()).as("requests for anything but the page itself").isEmpty();
        Files.createDirectories(SCREENSHOTS);
        Files.write(SCREENSHOTS.resolve(name + ".png"), chromium.screenshot());
        return drawn(chromium);
    }

    /** What the page shows now. */
    public static Drawn drawn(Chromium chromium) {
        JsonNode drawn = chromium.evaluate("""
                ({
                  frames: [...document.querySelectorAll('#flame .frame')].map(box => box.textContent),
                  marks: document.querySelectorAll('#timeline rect.mark').length,
                  rows: [...document.querySelectorAll('table.tally tbody tr')].map(row => row.innerText),
                  text: document.body.innerText,
                })""");
        return new Drawn(texts(drawn.get("frames")), drawn.get("marks").asInt(), texts(drawn.get("rows")),
                drawn.get("text").asText());
    }

    /** The page's data, read from the file as the page's script reads it. */
    public static JsonNode data(Path html) throws IOException {
        String page = Files.readString(html);
        String open = "<script type=\"application/json\" id=\"report-data\">";
        int start = page.indexOf(open);
        assertThat(start).as("the page has its data: " + html).isNotNegative();
        return new ObjectMapper().readTree(page.substring(start + open.length(), page.indexOf("</script>", start)));
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(text -> texts.add(text.asText()));
        return texts;
    }
}
