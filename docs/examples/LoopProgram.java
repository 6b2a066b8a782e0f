public class LoopProgram {
    public static void main(String[] args) throws Exception {
        Thread loop = Thread.ofPlatform().name("loop-1").start(LoopProgram::handleRequests);
        loop.join();
        Thread.sleep(500);
        System.out.println("done");
    }

    static void handleRequests() {
        try {
            Thread.sleep(200);
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
