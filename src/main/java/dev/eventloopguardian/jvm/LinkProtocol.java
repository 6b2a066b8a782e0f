package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.JavaThreadWaits;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the command line and the agent it loaded into a JVM say to each other over a Unix socket
 * of the command line's: the agent says which of its threads to classify and where their waits
 * show, and answers each event of its JVM with the Java thread and its stack. Big-endian frames,
 * each a tag byte then its fields; both ends are this jar, so a version mismatch is refused at
 * hello rather than negotiated.
 *
 * <pre>
 * agent   -> command: HELLO   version:int pid:int monitorWait:int condvarWait:int objectWait:int javaVersion:utf
 * command -> agent:   CONFIG  globs:int glob:utf...          (no globs: the event loops the agent knows)
 * agent   -> command: THREAD  tid:int stateAddress parkFrom parkTo sleepFrom sleepTo monitorFrom monitorTo:long
 * agent   -> command: GONE    tid:int
 * command -> agent:   ASK     request:long tid:int switches:long kind:int   (a JavaWait code, or 0)
 * agent   -> command: ANSWER  request:long known:bool [blocking:bool name:utf javaId:long virtual:bool afterWake:bool frames:int frame:utf...]
 * </pre>
 */
final class LinkProtocol {
    static final int VERSION = 2;
    static final byte HELLO = 'H';
    static final byte CONFIG = 'C';
    static final byte THREAD = 'T';
    static final byte GONE = 'G';
    static final byte ASK = 'A';
    static final byte ANSWER = 'R';
    /** An answer's frames at most: a deeper stack is cut, innermost frames kept. */
    static final int MAX_FRAMES = 256;
    /** The agent option that carries the socket's path; set by the command line, not by users. */
    static final String LINK_OPTION = "link=";

    private LinkProtocol() {
    }

    static void writeWaits(DataOutputStream out, JavaThreadWaits waits) throws IOException {
        out.writeLong(waits.stateAddress());
        out.writeLong(waits.parkFrom());
        out.writeLong(waits.parkTo());
        out.writeLong(waits.sleepFrom());
        out.writeLong(waits.sleepTo());
        out.writeLong(waits.monitorFrom());
        out.writeLong(waits.monitorTo());
    }

    static JavaThreadWaits readWaits(DataInputStream in) throws IOException {
        return new JavaThreadWaits(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
                in.readLong());
    }

    static void writeStrings(DataOutputStream out, List<String> strings) throws IOException {
        out.writeInt(strings.size());
        for (String string : strings) {
            out.writeUTF(string);
        }
    }

    /** At most {@code limit} strings: a peer that says more is not one of ours. */
    static List<String> readStrings(DataInputStream in, int limit) throws IOException {
        int count = in.readInt();
        if (count < 0 || count > limit) {
            throw new IOException("the link says " + count + " strings follow, more than " + limit);
        }
        List<String> strings = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            strings.add(in.readUTF());
        }
        return strings;
    }
}
