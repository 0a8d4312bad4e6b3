package io.rocketrpc.peer;

import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Java RocketMQ peer for rocketrpc's interoperability tests, built on the official
 * rocketmq-client 4.9.8. One sub-command per role; each prints one result line per action
 * on stdout and exits 0 only on full success (1 on failures, 2 on bad usage).
 */
public final class Main {
    static final String USAGE = String.join("\n",
        "usage: java -jar java-peer.jar COMMAND OPTIONS",
        "",
        "  responder -n NS -t TOPIC -g GROUP [--mode echo|upper] [--count N] [--verbose]",
        "            [--queues Q] [--no-create-topic] [--ready-timeout-ms MS]",
        "      Push consumer on TOPIC (\"*\"); answers every request with",
        "      MessageUtil.createReplyMessage(request, body) sent by a producer of group GROUP_reply.",
        "      body = request body (echo) or the body with ASCII a-z made A-Z, byte-wise (upper).",
        "      Every user property of the request whose name starts with \"X-\" is copied to the reply.",
        "      Creates TOPIC (Q queues, default 4) when the name server does not know it, waits until",
        "      queues are assigned, then prints READY. Prints REPLIED n per reply with --verbose.",
        "      Runs until N replies (--count) or SIGTERM/SIGINT; last line: replied=N errors=E.",
        "",
        "  requester -n NS -t TOPIC [--count N] [--size BYTES | --body TEXT] [--timeout-ms MS]",
        "            [--prop X-Name=value]... [--expect-upper] [--group G] [--verbose] [--print-status]",
        "      N sequential DefaultMQProducer.request(msg, timeout) calls (default N=1, timeout",
        "      3000 ms). Body: TEXT (UTF-8), or BYTES bytes of a-z pattern, or \"request-<i>\".",
        "      Checks the reply body (echo, or ASCII-uppercased with --expect-upper) and that every",
        "      X- property came back identical. Prints OK i <ms> / FAIL i <reason>; with --print-status",
        "      also STATUS i RRPC_STATUS=<v> RRPC_ERROR=<v> per reply (\"-\" when absent: rocketrpc's",
        "      error-reply marker);",
        "      last line: ok=N errors=E.",
        "",
        "  produce -n NS -t TOPIC --count N [--tag T] [--body TEXT] [--size BYTES] [--key K]",
        "          [--prop X-Name=value]... [--verbose]",
        "      N sync sends; body TEXT, BYTES of a-z pattern, or \"message-<i>\". \"{i}\" in K becomes i.",
        "      Prints SENT i msgId queue with --verbose; last line: sent=N errors=E.",
        "",
        "  consume -n NS -t TOPIC -g GROUP --count N [--timeout-ms MS] [--tag EXPR] [--quiet]",
        "          [--orderly] [--meta]",
        "      Push consumer from the first offset; prints MSG <body> per message (\\n, \\r and \\\\",
        "      escaped; non-UTF-8 bytes as \\xNN) followed by PROP name=value for X- properties;",
        "      with --meta, META queue=<broker>:<queueId> offset=<queueOffset> tags=<t> keys=<k>;",
        "      --orderly: MessageListenerOrderly on 4 threads (default: MessageListenerConcurrently, 1).",
        "      last line: received=N. Exit 0 once N messages arrived, 1 on timeout (default 60000).",
        "",
        "Security options (every command):",
        "  --access-key AK [--secret-key SK]   sign every request with AclClientRPCHook (ACL); the",
        "      secret may come from JAVA_PEER_SECRET_KEY instead of the command line",
        "  --tls                                 TLS to name servers and brokers (setUseTLS(true));",
        "      trusts any server certificate unless --tls-ca is given",
        "  --tls-ca FILE                         TLS, and check the servers' certificate chain against",
        "      the CA certificate(s) in FILE (PEM)",
        "",
        "Environment: JAVA_PEER_LOG_DIR (default <tmp>/rocketrpc-java-peer-logs) receives the",
        "rocketmq client log (level WARN unless JAVA_PEER_LOG_LEVEL is set).");

    private Main() {
    }

    public static void main(String[] rawArgv) {
        configureClientLogging();
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
            StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
            StandardCharsets.UTF_8));
        String[] argv = utf8Args(rawArgv);
        if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("-h") || argv[0].equals("--help")) {
            out.println(USAGE);
            System.exit(argv.length == 0 ? 2 : 0);
            return;
        }
        int code;
        try {
            Args args = new Args(argv, 1);
            Security.configure(args);
            switch (argv[0]) {
                case "responder":
                    code = new Responder(args).run();
                    break;
                case "requester":
                    code = new Requester(args).run();
                    break;
                case "produce":
                    code = new Produce(args).run();
                    break;
                case "consume":
                    code = new Consume(args).run();
                    break;
                default:
                    throw new UsageException("unknown command " + argv[0]);
            }
        } catch (UsageException e) {
            System.err.println("java-peer: " + e.getMessage());
            System.err.println(USAGE);
            code = 2;
        } catch (Throwable t) {
            out.println("FAIL " + Peers.describe(t));
            t.printStackTrace();
            code = 1;
        }
        out.flush();
        System.err.flush();
        System.exit(code);
    }

    /**
     * Arguments are always taken as UTF-8, whatever the locale: under LANG=C the JVM decodes
     * argv as ASCII and turns "héllo" into "h\uFFFD\uFFFDllo" for good. On Linux the raw bytes
     * are still in /proc/self/cmdline, whose last entries are the program arguments.
     */
    static String[] utf8Args(String[] argv) {
        String jnu = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (argv.length == 0 || jnu.equalsIgnoreCase("UTF-8") || jnu.equalsIgnoreCase("UTF8")) {
            return argv;
        }
        try {
            byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/cmdline"));
            java.util.List<String> all = new java.util.ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    all.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            if (start < raw.length) {
                all.add(new String(raw, start, raw.length - start, StandardCharsets.UTF_8));
            }
            if (all.size() < argv.length) {
                return argv;
            }
            String[] fixed = all.subList(all.size() - argv.length, all.size()).toArray(new String[0]);
            for (int i = 0; i < argv.length; i++) {
                // the same argument list? pure-ASCII arguments must match exactly
                boolean ascii = argv[i].chars().allMatch(ch -> ch < 0x80);
                if (ascii && !argv[i].equals(fixed[i])) {
                    return argv;
                }
            }
            return fixed;
        } catch (java.io.IOException | RuntimeException e) {
            return argv;
        }
    }

    /** The 4.9.x client logs to ~/logs/rocketmqlogs unless told otherwise; keep it out of the way. */
    private static void configureClientLogging() {
        String dir = System.getenv("JAVA_PEER_LOG_DIR");
        if (dir == null || dir.isEmpty()) {
            dir = new File(System.getProperty("java.io.tmpdir"), "rocketrpc-java-peer-logs").getPath();
        }
        setIfAbsent("rocketmq.client.logRoot", dir);
        String level = System.getenv("JAVA_PEER_LOG_LEVEL");
        setIfAbsent("rocketmq.client.logLevel", level == null || level.isEmpty() ? "WARN" : level);
        setIfAbsent("rocketmq.client.logFileMaxIndex", "2");
        setIfAbsent("rocketmq.client.logFileMaxSize", String.valueOf(64L * 1024 * 1024));
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
