package dev.eventloopguardian.jvm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentOptionsTest {
    @Test
    void onlyThreadsIsNeededAndTheRestDefaultsToATextReportOnStderr() {
        AgentOptions options = AgentOptions.parse("threads=loop-.*");
        assertThat(options.threads().pattern()).isEqualTo("loop-.*");
        assertThat(options.format()).isEqualTo(AgentOptions.Format.TEXT);
        assertThat(options.output()).isEmpty();
        assertThat(options.abort()).isFalse();
        assertThat(options.jfr()).isFalse();
        assertThat(options.uninterruptible()).isFalse();
        assertThat(options.required()).isFalse();
    }

    @Test
    void everyOptionIsRead() {
        AgentOptions options = AgentOptions.parse("threads=vert\\.x-eventloop-thread-\\d+,format=json,output=/tmp/calls.jsonl,"
                + "action=abort,jfr=true,uninterruptible=true,required=true");
        assertThat(options.threads().matcher("vert.x-eventloop-thread-3").matches()).isTrue();
        assertThat(options.format()).isEqualTo(AgentOptions.Format.JSON);
        assertThat(options.output()).contains(Path.of("/tmp/calls.jsonl"));
        assertThat(options.abort()).isTrue();
        assertThat(options.jfr()).isTrue();
        assertThat(options.uninterruptible()).isTrue();
        assertThat(options.required()).isTrue();
    }

    @Test
    void aCommaInsideTheRegexIsEscaped() {
        assertThat(AgentOptions.parse("threads=loop-\\d{1\\,2},format=json").threads().pattern()).isEqualTo("loop-\\d{1,2}");
        assertThatThrownBy(() -> AgentOptions.parse("threads=loop-\\d{1,2}"))
                .hasMessageContaining("'2}' is not KEY=VALUE").hasMessageContaining("\\,");
    }

    @Test
    void mistakesAreNamedWithWhatIsAllowed() {
        assertThatThrownBy(() -> AgentOptions.parse("threads=x,formt=json"))
                .hasMessageContaining("unknown option 'formt'").hasMessageContaining("did you mean 'format'?");
        assertThatThrownBy(() -> AgentOptions.parse("threads=x,format=yaml")).hasMessage("format=yaml is not one of text, json");
        assertThatThrownBy(() -> AgentOptions.parse("threads=x,action=kill")).hasMessage("action=kill is not one of report, abort");
        assertThatThrownBy(() -> AgentOptions.parse("threads=x,jfr=yes")).hasMessage("jfr=yes is not one of true, false");
        assertThatThrownBy(() -> AgentOptions.parse("threads=a,threads=b")).hasMessage("option 'threads' is given twice");
        assertThatThrownBy(() -> AgentOptions.parse("threads=x,output=")).hasMessageContaining("output= needs a FILE");
        assertThatThrownBy(() -> AgentOptions.parse("threads=loop-(")).hasMessageStartingWith("threads=loop-( is not a regular expression");
    }

    @Test
    void withoutThreadsThereIsNothingToGuard() {
        for (String arguments : new String[] {null, "", "format=json", "threads="}) {
            assertThatThrownBy(() -> AgentOptions.parse(arguments)).as(arguments).hasMessageStartingWith("threads=REGEX is required");
        }
    }

    /** Asked for even in options that cannot be parsed, and by any value but false. */
    @Test
    void requiredIsSeenInOptionsThatDoNotParse() {
        assertThat(AgentOptions.asksRequired("threads=x,formt=json,required=true")).isTrue();
        assertThat(AgentOptions.asksRequired("threads=x,required=yes")).isTrue();
        assertThat(AgentOptions.asksRequired("threads=x,required=false")).isFalse();
        assertThat(AgentOptions.asksRequired("threads=required=true")).isFalse();
        assertThat(AgentOptions.asksRequired(null)).isFalse();
    }
}
