package dev.eventloopguardian.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventloopguardian.testing.Chromium;
import dev.eventloopguardian.testing.ReportPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static dev.eventloopguardian.report.HtmlReportTest.JAVA;
import static dev.eventloopguardian.report.HtmlReportTest.JVM;
import static dev.eventloopguardian.report.HtmlReportTest.NATIVE;
import static dev.eventloopguardian.report.HtmlReportTest.event;
import static dev.eventloopguardian.report.HtmlReportTest.nativeSleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTML report of made-up sleeps, opened in a real headless Chromium: it loads clean and
 * fetches nothing, draws every kind of frame, keeps hostile names as text, and answers clicks,
 * searches and hovers. HtmlReportSessionTest does the same with a real session's page.
 */
class HtmlReportInChromiumTest {
    private static final int TIMELINE_LIMIT = 50;

    /** Sleeps of every kind a session reports: Java-level with Java and JIT frames, native, unknown length, still asleep. */
    private static HtmlReport report() {
        HtmlReport report = new HtmlReport(TIMELINE_LIMIT, HtmlReportTest.START, System.currentTimeMillis());
        for (int i = 0; i < 30; i++) {
            report.sleep(event("loop-thread-nu", 11, i * 40_000_000L, "futex", JVM, Optional.of(JAVA),
                    OptionalLong.of(5_000_000 + i * 100_000L)));
            report.sleep(nativeSleep(12 + i % 3, i * 40_000_000L + 20_000_000, 12_000_000));
        }
        report.sleep(event("storm", 12, 1_300_000_000L, "read", NATIVE, Optional.empty(), OptionalLong.empty()));
        report.sleep(event(HtmlPageTest.HOSTILE_THREAD, 20, 1_350_000_000L, "read", List.of(HtmlPageTest.HOSTILE_SYMBOL),
                Optional.empty(), OptionalLong.of(1_000_000)));
        report.sleep(nativeSleep(15, 1_400_000_000L, 1).whileAsleep());
        return report;
    }

    @Test
    void thePageLoadsCleanDrawsEveryKindOfFrameAndAnswersTheUser(@TempDir Path scratch) throws Exception {
        Path page = scratch.resolve("report.html");
        try (Writer out = Files.newBufferedWriter(page)) {
            // The made-up session ends 1.6 s after it began, a while after its last sleep.
            HtmlPage.write(out, report().json(3, HtmlReportTest.START + 1_600_000_000L));
        }
        try (Chromium chromium = Chromium.start(scratch, 1400, 1000)) {
            ReportPages.Drawn drawn = ReportPages.check(chromium, page, "synthetic");

            assertThat(drawn.frames()).contains("all", "futex (sleep)", "clock_nanosleep", "read", "Loop.run",
                    "java.lang.Thread.sleep", "void Loop.handle(int) (jit)", "__futex_abstimed_wait_common (libc.so.6)",
                    "main (storm)", "do_nanosleep", "schedule");
            assertThat(drawn.marks()).isEqualTo(TIMELINE_LIMIT);
            assertThat(drawn.text()).contains("63 blocking sleeps in 6 threads", "3 more sleeps could not be reported",
                    "the 13 earlier ones were left out (the report keeps at most 50)");
            assertThat(drawn.tableRows()).anySatisfy(row -> assertThat(row).startsWith("clock_nanosleep\t31\t"))
                    .anySatisfy(row -> assertThat(row).startsWith("futex (sleep)\t30\t47.6 %\t"))
                    .anySatisfy(row -> assertThat(row).startsWith("loop-thread-nu \"loop-thread-number-1\" (tid 11), pid 40"));

            // What the guarded program named its thread and a symbol is text on the page, not markup.
            assertThat(drawn.text()).contains(HtmlPageTest.HOSTILE_THREAD);
            assertThat(drawn.frames()).contains(HtmlPageTest.HOSTILE_SYMBOL.replace("+0x10", ""));
            assertThat(chromium.evaluate("window.injected === undefined && document.querySelectorAll('img, iframe').length === 0"
                    + " && document.scripts.length === 2").asBoolean()).isTrue();

            // Click a syscall: it fills the width, and the other syscalls leave the graph.
            String futexBox = "[...document.querySelectorAll('#flame .frame')].find(box => box.textContent === 'futex (sleep)')";
            chromium.evaluate(futexBox + ".click()");
            assertThat(chromium.evaluate(futexBox + ".style.width").asText()).isEqualTo("100%");
            assertThat(ReportPages.drawn(chromium).frames()).contains("Loop.run")
                    .doesNotContain("clock_nanosleep", "main (storm)");
            chromium.evaluate("document.getElementById('reset-zoom').click()");
            assertThat(ReportPages.drawn(chromium).frames()).contains("clock_nanosleep");

            // Search: the matching boxes are marked, and their share is said.
            chromium.evaluate("const search = document.getElementById('search'); search.value = 'Loop.handle';"
                    + " search.dispatchEvent(new Event('input'))");
            assertThat(chromium.evaluate("document.getElementById('search-result').textContent").asText())
                    .isEqualTo("matched: 30 sleeps (47.6 %)");
            assertThat(chromium.evaluate("document.querySelectorAll('#flame .frame.match').length").asInt()).isEqualTo(2);

            // Hover: the tooltip gives the box's count and share.
            JsonNode box = chromium.evaluate("(() => { const r = [...document.querySelectorAll('#flame .frame')]"
                    + ".find(box => box.textContent === 'clock_nanosleep').getBoundingClientRect();"
                    + " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
            chromium.send("Input.dispatchMouseEvent", parameters -> parameters.put("type", "mouseMoved")
                    .put("x", box.get("x").asDouble()).put("y", box.get("y").asDouble()));
            assertThat(chromium.evaluate("document.getElementById('tooltip').hidden").asBoolean()).isFalse();
            assertThat(chromium.evaluate("document.getElementById('tooltip').innerText").asText())
                    .contains("clock_nanosleep", "syscall", "31 sleeps: 49.2 % of all",
                            "blocked 360 ms in all (the 30 sleeps whose length is known)");
        }
    }
}
