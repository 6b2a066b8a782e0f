package dev.eventloopguardian.btf;

/**
 * Launch time is a product metric: run this in a fresh JVM to see what the guard's three lookups
 * cost from a cold start (a main, not a test, so timing never makes the build flaky):
 * {@code java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp target/classes:target/test-classes
 * dev.eventloopguardian.btf.ColdLookupTiming}. The launcher also uses an AOT cache, which only
 * works with jars: package these classes in one to measure what users get.
 */
public final class ColdLookupTiming {
    private ColdLookupTiming() {
    }

    public static void main(String[] args) throws BtfException {
        long start = System.nanoTime();
        Btf btf = Btf.vmlinux();
        long read = System.nanoTime();
        Member state = btf.member("task_struct", "__state");
        Member syscall = btf.member("pt_regs", "orig_ax");
        Member argument = btf.member("pt_regs", "di");
        long done = System.nanoTime();
        System.out.printf("read+index %.2f ms, three lookups %.2f ms, total %.2f ms (%s)%n", (read - start) / 1e6,
                (done - read) / 1e6, (done - start) / 1e6, btf);
        System.out.println(state + "\n" + syscall + "\n" + argument);
    }
}
